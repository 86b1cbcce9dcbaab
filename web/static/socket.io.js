/*
 * Noom's browser Socket.IO client.
 *
 * Our own small implementation of the public Engine.IO v4 and Socket.IO v5
 * protocols, written from the specs; no third-party code. It defines the
 * global io(url?, opts?) (also io.connect) with the part of the official
 * client's API that pages use:
 *
 *   Socket   on/once/off/onAny/prependAny/offAny/onAnyOutgoing/offAnyOutgoing,
 *            emit (trailing function = ack), timeout(ms).emit(..., (err, ...) => {}),
 *            emitWithAck (Promise), volatile, send, connect/open,
 *            disconnect/close, id, connected, disconnected, active, io;
 *            events connect, disconnect(reason, description),
 *            connect_error(err with .data)
 *   Manager  (socket.io) open/close, reconnection* setters, events open,
 *            close, error, ping, reconnect_attempt, reconnect,
 *            reconnect_error, reconnect_failed
 *   Options  path ("/socket.io"), transports (["websocket", "polling"]: the
 *            next one is tried when one fails or hangs while connecting; after
 *            a WebSocket failure later sessions start with polling and
 *            upgrade), upgrade (true), auth (object or function(cb)), query,
 *            reconnection (true), reconnectionAttempts (Infinity),
 *            reconnectionDelay (1000), reconnectionDelayMax (5000),
 *            randomizationFactor (0.5), timeout (20000), ackTimeout,
 *            autoConnect (true), forceNew, multiplex, withCredentials
 *   Binary   ArrayBuffer and typed arrays, nested anywhere in the arguments
 *            (placeholders + attachments); received binaries are ArrayBuffers.
 *            Blob/File are not supported (send an ArrayBuffer).
 *
 * Not supported: connection state recovery (socket.recovered is always
 * false), WebTransport, per-message compression flags (accepted, ignored),
 * extraHeaders, and the parser/adapter plug-in options.
 *
 * Layers, bottom up:
 *   Emitter        tiny event emitter
 *   eio            Engine.IO packet/payload codec (pure)
 *   sio            Socket.IO packet encoder/decoder (pure, binary aware)
 *   Polling, WS    Engine.IO transports (fetch long-polling, WebSocket)
 *   Engine         one Engine.IO session: handshake, heartbeat, fallback, upgrade
 *   Manager        reconnection with backoff, multiplexes namespaces
 *   Socket         one namespace: events, acks, buffering
 *
 * web/testdata/sioref checks it against the reference server.
 */
(function (root) {
  "use strict";

  // ---------------------------------------------------------------- Emitter

  function Emitter() {}

  Emitter.prototype.on = function (event, fn) {
    var all = this._listeners || (this._listeners = Object.create(null));
    (all[event] || (all[event] = [])).push(fn);
    return this;
  };
  Emitter.prototype.addEventListener = Emitter.prototype.on;

  Emitter.prototype.once = function (event, fn) {
    var self = this;
    function wrapper() {
      self.off(event, wrapper);
      fn.apply(self, arguments);
    }
    wrapper.original = fn;
    return this.on(event, wrapper);
  };

  Emitter.prototype.off = function (event, fn) {
    if (!this._listeners) return this;
    if (event === undefined) {
      this._listeners = Object.create(null);
      return this;
    }
    var list = this._listeners[event];
    if (!list) return this;
    if (fn === undefined) {
      delete this._listeners[event];
      return this;
    }
    for (var i = 0; i < list.length; i++) {
      if (list[i] === fn || list[i].original === fn) {
        list.splice(i, 1);
        break;
      }
    }
    if (list.length === 0) delete this._listeners[event];
    return this;
  };
  Emitter.prototype.removeListener = Emitter.prototype.off;
  Emitter.prototype.removeEventListener = Emitter.prototype.off;
  Emitter.prototype.removeAllListeners = function (event) {
    return this.off(event);
  };

  // emit calls the local listeners. Socket overrides emit to send to the
  // server, so internal code always uses emitReserved.
  Emitter.prototype.emit = function (event) {
    var list = this._listeners && this._listeners[event];
    if (!list) return this;
    var args = Array.prototype.slice.call(arguments, 1);
    list = list.slice();
    for (var i = 0; i < list.length; i++) list[i].apply(this, args);
    return this;
  };
  Emitter.prototype.emitReserved = Emitter.prototype.emit;

  Emitter.prototype.listeners = function (event) {
    return (this._listeners && this._listeners[event] || []).slice();
  };
  Emitter.prototype.hasListeners = function (event) {
    return this.listeners(event).length > 0;
  };

  function inherit(Child, Parent) {
    Child.prototype = Object.create(Parent.prototype);
    Child.prototype.constructor = Child;
  }

  // subscribe adds a listener and returns the function that removes it.
  function subscribe(emitter, event, fn) {
    emitter.on(event, fn);
    return function () {
      emitter.off(event, fn);
    };
  }

  // ----------------------------------------------------------- binary utils

  function isBinary(x) {
    return (typeof ArrayBuffer !== "undefined") &&
      (x instanceof ArrayBuffer || ArrayBuffer.isView(x));
  }

  function bytesOf(x) {
    if (x instanceof ArrayBuffer) return new Uint8Array(x);
    return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  }

  function toBase64(x) {
    var bytes = bytesOf(x);
    var parts = [];
    for (var i = 0; i < bytes.length; i += 0x8000) {
      parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
    }
    return btoa(parts.join(""));
  }

  function fromBase64(s) {
    var bin = atob(s);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  function utf8Length(s) {
    var n = 0;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c < 0xdc00) { n += 4; i++; }
      else n += 3;
    }
    return n;
  }

  // --------------------------------------------------- Engine.IO v4 codec

  var EIO_TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];
  var EIO_CODE = {};
  EIO_TYPES.forEach(function (t, i) { EIO_CODE[t] = String(i); });
  var RECORD_SEPARATOR = "\x1e";

  var eio = {
    protocol: 4,

    // encodePacket returns a string, or the binary itself when the
    // transport carries binary frames (WebSocket).
    encodePacket: function (packet, binaryFrames) {
      if (isBinary(packet.data)) {
        return binaryFrames ? packet.data : "b" + toBase64(packet.data);
      }
      return EIO_CODE[packet.type] + (packet.data == null ? "" : String(packet.data));
    },

    decodePacket: function (data) {
      if (typeof data !== "string") {
        return { type: "message", data: data instanceof ArrayBuffer ? data : bytesOf(data).slice().buffer };
      }
      if (data.charAt(0) === "b") {
        try {
          return { type: "message", data: fromBase64(data.slice(1)) };
        } catch (e) {
          return { type: "error", data: "parser error" };
        }
      }
      var type = EIO_TYPES[data.charCodeAt(0) - 48];
      if (!type || data.length === 0) return { type: "error", data: "parser error" };
      return data.length > 1 ? { type: type, data: data.slice(1) } : { type: type };
    },

    encodePayload: function (packets) {
      return packets.map(function (p) { return eio.encodePacket(p, false); }).join(RECORD_SEPARATOR);
    },

    decodePayload: function (payload) {
      var out = [];
      var parts = payload.split(RECORD_SEPARATOR);
      for (var i = 0; i < parts.length; i++) {
        var p = eio.decodePacket(parts[i]);
        out.push(p);
        if (p.type === "error") break;
      }
      return out;
    }
  };

  // --------------------------------------------------- Socket.IO v5 codec

  var T = {
    CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3,
    CONNECT_ERROR: 4, BINARY_EVENT: 5, BINARY_ACK: 6
  };

  // Events the application may neither emit nor receive by name.
  var RESERVED = {
    connect: 1, connect_error: 1, disconnect: 1, disconnecting: 1,
    newListener: 1, removeListener: 1
  };

  function isPlainObject(x) {
    return Object.prototype.toString.call(x) === "[object Object]";
  }

  function hasBinary(x, depth) {
    depth = depth || 0;
    if (!x || typeof x !== "object" || depth > 100) return false;
    if (isBinary(x)) return true;
    if (typeof x.toJSON === "function" && !Array.isArray(x)) return false;
    if (Array.isArray(x)) {
      for (var i = 0; i < x.length; i++) if (hasBinary(x[i], depth + 1)) return true;
      return false;
    }
    for (var k in x) {
      if (Object.prototype.hasOwnProperty.call(x, k) && hasBinary(x[k], depth + 1)) return true;
    }
    return false;
  }

  // extractBinary replaces each binary value with a placeholder and collects
  // the binaries in order.
  function extractBinary(x, buffers) {
    if (isBinary(x)) {
      buffers.push(x);
      return { _placeholder: true, num: buffers.length - 1 };
    }
    if (Array.isArray(x)) return x.map(function (v) { return extractBinary(v, buffers); });
    if (x && typeof x === "object" && !(x instanceof Date) && typeof x.toJSON !== "function") {
      var out = {};
      for (var k in x) {
        if (Object.prototype.hasOwnProperty.call(x, k)) out[k] = extractBinary(x[k], buffers);
      }
      return out;
    }
    return x;
  }

  function insertBinary(x, buffers) {
    if (!x || typeof x !== "object") return x;
    if (x._placeholder === true) {
      if (typeof x.num === "number" && x.num >= 0 && x.num < buffers.length) return buffers[x.num];
      throw new Error("illegal attachment placeholder");
    }
    if (Array.isArray(x)) {
      for (var i = 0; i < x.length; i++) x[i] = insertBinary(x[i], buffers);
      return x;
    }
    for (var k in x) {
      if (Object.prototype.hasOwnProperty.call(x, k)) x[k] = insertBinary(x[k], buffers);
    }
    return x;
  }

  function packetHeader(packet) {
    var s = String(packet.type);
    if (packet.type === T.BINARY_EVENT || packet.type === T.BINARY_ACK) {
      s += packet.attachments + "-";
    }
    if (packet.nsp && packet.nsp !== "/") s += packet.nsp + ",";
    if (packet.id != null) s += packet.id;
    return s;
  }

  // encodeSio returns the frames of one Socket.IO packet: a string, followed
  // by the binary attachments of a BINARY_* packet.
  function encodeSio(packet) {
    if ((packet.type === T.EVENT || packet.type === T.ACK) && hasBinary(packet.data)) {
      var buffers = [];
      var data = extractBinary(packet.data, buffers);
      var bin = {
        type: packet.type === T.EVENT ? T.BINARY_EVENT : T.BINARY_ACK,
        nsp: packet.nsp, id: packet.id, attachments: buffers.length
      };
      return [packetHeader(bin) + JSON.stringify(data)].concat(buffers);
    }
    var s = packetHeader(packet);
    if (packet.data !== undefined) s += JSON.stringify(packet.data);
    return [s];
  }

  function isDigit(c) {
    return c >= 48 && c <= 57;
  }

  function validPayload(type, data) {
    switch (type) {
      case T.CONNECT:
        return data === undefined || isPlainObject(data);
      case T.DISCONNECT:
        return data === undefined;
      case T.CONNECT_ERROR:
        return typeof data === "string" || isPlainObject(data);
      case T.EVENT:
      case T.BINARY_EVENT:
        return Array.isArray(data) && data.length > 0 &&
          (typeof data[0] === "number" || (typeof data[0] === "string" && !RESERVED[data[0]]));
      case T.ACK:
      case T.BINARY_ACK:
        return Array.isArray(data);
    }
    return false;
  }

  // decodeSioString parses "<type>[<attachments>-][<nsp>,][<id>][<json>]".
  function decodeSioString(s) {
    var i = 0;
    var type = s.charCodeAt(0) - 48;
    if (!(type >= 0 && type <= 6) || s.length === 0) throw new Error("unknown packet type");
    var packet = { type: type, nsp: "/" };
    i = 1;
    if (type === T.BINARY_EVENT || type === T.BINARY_ACK) {
      var start = i;
      while (i < s.length && isDigit(s.charCodeAt(i))) i++;
      if (i === start || s.charAt(i) !== "-") throw new Error("illegal attachments");
      packet.attachments = Number(s.slice(start, i));
      i++;
    }
    if (s.charAt(i) === "/") {
      var comma = s.indexOf(",", i);
      if (comma < 0) {
        packet.nsp = s.slice(i);
        i = s.length;
      } else {
        packet.nsp = s.slice(i, comma);
        i = comma + 1;
      }
    }
    var idStart = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (i > idStart) packet.id = Number(s.slice(idStart, i));
    if (i < s.length) {
      var data;
      try {
        data = JSON.parse(s.slice(i));
      } catch (e) {
        throw new Error("invalid payload");
      }
      packet.data = data;
    }
    if (!validPayload(type, packet.data)) throw new Error("invalid payload");
    return packet;
  }

  // Decoder turns Engine.IO messages into Socket.IO packets ("decoded"),
  // collecting the binary attachments of BINARY_* packets.
  function Decoder() {
    this.pending = null;
    this.buffers = [];
  }
  inherit(Decoder, Emitter);

  Decoder.prototype.add = function (data) {
    if (typeof data === "string") {
      if (this.pending) throw new Error("got plaintext data when reconstructing a packet");
      var packet = decodeSioString(data);
      if ((packet.type === T.BINARY_EVENT || packet.type === T.BINARY_ACK) && packet.attachments > 0) {
        this.pending = packet;
        this.buffers = [];
        return;
      }
      if (packet.type === T.BINARY_EVENT) packet.type = T.EVENT;
      if (packet.type === T.BINARY_ACK) packet.type = T.ACK;
      this.emitReserved("decoded", packet);
      return;
    }
    if (isBinary(data)) {
      if (!this.pending) throw new Error("got binary data when not reconstructing a packet");
      this.buffers.push(data);
      if (this.buffers.length === this.pending.attachments) {
        var p = this.pending;
        p.data = insertBinary(p.data, this.buffers);
        p.type = p.type === T.BINARY_EVENT ? T.EVENT : T.ACK;
        delete p.attachments;
        this.pending = null;
        this.buffers = [];
        this.emitReserved("decoded", p);
      }
      return;
    }
    throw new Error("unknown data type");
  };

  Decoder.prototype.destroy = function () {
    this.pending = null;
    this.buffers = [];
  };

  var sio = {
    protocol: 5,
    types: T,
    encode: encodeSio,
    Decoder: Decoder,
    decodeString: decodeSioString,
    hasBinary: hasBinary
  };

  // ------------------------------------------------------------ URLs, query

  function encodeQuery(q) {
    var parts = [];
    for (var k in q) {
      if (Object.prototype.hasOwnProperty.call(q, k) && q[k] !== undefined && q[k] !== null) {
        parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(q[k]));
      }
    }
    return parts.join("&");
  }

  function parseQuery(q) {
    if (!q) return {};
    if (typeof q === "object") return Object.assign({}, q);
    var out = {};
    String(q).replace(/^\?/, "").split("&").forEach(function (pair) {
      if (!pair) return;
      var kv = pair.split("=");
      out[decodeURIComponent(kv[0])] = decodeURIComponent(kv.slice(1).join("=") || "");
    });
    return out;
  }

  var stampSeq = 0;
  function timestamp() {
    return Date.now().toString(36) + (stampSeq++).toString(36);
  }

  function defer(fn) {
    if (typeof queueMicrotask === "function") queueMicrotask(fn);
    else Promise.resolve().then(fn);
  }

  // -------------------------------------------------------------- Transport

  // Transport is one Engine.IO channel. Events: "open", "packet", "drain",
  // "error" (Error with .type "TransportError"), "close".
  function Transport(opts, name) {
    this.opts = opts;
    this.name = name;
    this.query = Object.assign({}, opts.query);
    this.readyState = "";
    this.writable = false;
  }
  inherit(Transport, Emitter);

  Transport.prototype.uri = function (scheme) {
    var q = Object.assign({}, this.query, { EIO: 4, transport: this.name });
    if (this.name === "polling") q.t = timestamp();
    return scheme + (this.opts.secure ? "s" : "") + "://" + this.opts.host + this.opts.path + "?" + encodeQuery(q);
  };

  Transport.prototype.open = function () {
    this.readyState = "opening";
    this.doOpen();
    return this;
  };

  Transport.prototype.close = function () {
    if (this.readyState === "opening" || this.readyState === "open") {
      this.doClose();
      this.onClose();
    }
    return this;
  };

  Transport.prototype.send = function (packets) {
    if (this.readyState === "open") this.write(packets);
  };

  Transport.prototype.onOpen = function () {
    this.readyState = "open";
    this.writable = true;
    this.emitReserved("open");
  };

  Transport.prototype.onPacket = function (packet) {
    this.emitReserved("packet", packet);
  };

  Transport.prototype.onError = function (reason, context) {
    var err = new Error(reason);
    err.type = "TransportError";
    err.description = context;
    this.emitReserved("error", err);
    return this;
  };

  Transport.prototype.onClose = function (details) {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.writable = false;
    this.emitReserved("close", details);
  };

  // ---------------------------------------------------------------- Polling

  function Polling(opts) {
    Transport.call(this, opts, "polling");
    this.polling = false;
    this.pollAbort = null;
  }
  inherit(Polling, Transport);

  Polling.prototype.doOpen = function () {
    this.poll();
  };

  Polling.prototype.request = function (method, body) {
    var init = {
      method: method,
      cache: "no-store",
      credentials: this.opts.withCredentials ? "include" : "same-origin"
    };
    if (body !== undefined) {
      init.body = body;
      init.headers = { "Content-Type": "text/plain;charset=UTF-8" };
    }
    return fetch(this.uri("http"), init).then(function (res) {
      return res.text().then(function (text) {
        if (!res.ok) {
          var err = new Error("HTTP " + res.status + ": " + text.slice(0, 200));
          err.status = res.status;
          throw err;
        }
        return text;
      });
    });
  };

  Polling.prototype.poll = function () {
    var self = this;
    this.polling = true;
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    this.pollAbort = ctrl;
    var init = {
      method: "GET",
      cache: "no-store",
      credentials: this.opts.withCredentials ? "include" : "same-origin"
    };
    if (ctrl) init.signal = ctrl.signal;
    fetch(this.uri("http"), init).then(function (res) {
      return res.text().then(function (text) {
        if (!res.ok) throw new Error("HTTP " + res.status + ": " + text.slice(0, 200));
        return text;
      });
    }).then(function (text) {
      if (self.pollAbort === ctrl) self.pollAbort = null;
      self.onPayload(text);
    }, function (err) {
      if (self.pollAbort === ctrl) self.pollAbort = null;
      if (self.readyState === "closed") return;
      self.onError("xhr poll error", err);
    });
    this.emitReserved("poll");
  };

  Polling.prototype.onPayload = function (text) {
    if (this.readyState === "closed") return;
    var packets = eio.decodePayload(text);
    for (var i = 0; i < packets.length; i++) {
      var p = packets[i];
      if (p.type === "error") {
        this.onError("parse error", p.data);
        return;
      }
      if (this.readyState === "opening" && p.type === "open") this.onOpen();
      if (p.type === "close") {
        this.onClose({ description: "transport closed by the server" });
        return;
      }
      this.onPacket(p);
      if (this.readyState === "closed") return;
    }
    this.polling = false;
    this.emitReserved("pollComplete");
    if (this.readyState === "open") this.poll();
  };

  // pause stops polling and waits for the request in flight and the write in
  // flight, then calls onPause. Used when upgrading to WebSocket.
  Polling.prototype.pause = function (onPause) {
    var self = this;
    this.readyState = "pausing";
    var waiting = 0;
    function done() {
      if (--waiting === 0) {
        self.readyState = "paused";
        onPause();
      }
    }
    if (this.polling) {
      waiting++;
      this.once("pollComplete", done);
    }
    if (!this.writable) {
      waiting++;
      this.once("drain", done);
    }
    if (waiting === 0) {
      this.readyState = "paused";
      onPause();
    }
  };

  Polling.prototype.write = function (packets) {
    var self = this;
    this.writable = false;
    this.request("POST", eio.encodePayload(packets)).then(function () {
      self.writable = true;
      self.emitReserved("drain");
    }, function (err) {
      if (self.readyState === "closed") return;
      self.onError("xhr post error", err);
    });
  };

  Polling.prototype.doClose = function () {
    var self = this;
    var sendClose = function () {
      self.request("POST", eio.encodePayload([{ type: "close" }])).catch(function () {});
    };
    if (this.readyState === "open" || this.readyState === "pausing" || this.readyState === "paused") {
      sendClose();
    }
    if (this.pollAbort) {
      this.pollAbort.abort();
      this.pollAbort = null;
    }
  };

  // -------------------------------------------------------------- WebSocket

  function WS(opts) {
    Transport.call(this, opts, "websocket");
    this.ws = null;
  }
  inherit(WS, Transport);

  WS.prototype.doOpen = function () {
    var self = this;
    var Ctor = this.opts.WebSocket || root.WebSocket;
    if (typeof Ctor !== "function") {
      defer(function () { self.onError("websocket unsupported"); });
      return;
    }
    var ws;
    try {
      ws = new Ctor(this.uri("ws"));
    } catch (err) {
      defer(function () { self.onError("websocket error", err); });
      return;
    }
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = function () { self.onOpen(); };
    ws.onclose = function (ev) {
      self.onClose({ description: "websocket connection closed", context: ev });
    };
    ws.onmessage = function (ev) {
      var p = eio.decodePacket(ev.data);
      if (p.type === "error") {
        self.onError("parse error", ev.data);
        return;
      }
      self.onPacket(p);
    };
    ws.onerror = function (ev) { self.onError("websocket error", ev); };
  };

  WS.prototype.write = function (packets) {
    var self = this;
    this.writable = false;
    try {
      for (var i = 0; i < packets.length; i++) {
        this.ws.send(eio.encodePacket(packets[i], true));
      }
    } catch (err) {
      this.onError("websocket error", err);
      return;
    }
    setTimeout(function () {
      if (self.readyState !== "open") return;
      self.writable = true;
      self.emitReserved("drain");
    }, 0);
  };

  WS.prototype.doClose = function () {
    if (this.ws) {
      this.ws.onerror = this.ws.onmessage = this.ws.onclose = this.ws.onopen = null;
      try { this.ws.close(); } catch (e) { /* already closed */ }
      this.ws = null;
    }
  };

  var TRANSPORTS = { polling: Polling, websocket: WS };

  // ----------------------------------------------------------------- Engine

  // Engine is one Engine.IO session. Events: "open", "handshake", "ping",
  // "data"(message), "error", "close"(reason, description), "upgrade",
  // "upgradeError".
  //
  // opts: host, secure, path, query, transports, upgrade, withCredentials,
  // transportTimeout (ms a transport may take to hand shake before the next
  // transport in the list is tried).
  function Engine(opts) {
    this.opts = opts;
    this.transports = opts.transports.filter(function (t) { return TRANSPORTS[t]; });
    this.id = null;
    this.upgrades = [];
    this.pingInterval = 25000;
    this.pingTimeout = 20000;
    this.maxPayload = 0;
    this.writeBuffer = [];
    this.inFlight = 0;
    this.upgrading = false;
    this.readyState = "opening";
    this.transport = null;
    this.pingTimer = null;
    this.attemptTimer = null;
    this.failedTransports = [];
    var self = this;
    this.onOffline = function () {
      self.onClose("transport close", { description: "network connection lost" });
    };
    if (typeof root.addEventListener === "function") root.addEventListener("offline", this.onOffline, false);
    this.openNext();
  }
  inherit(Engine, Emitter);

  Engine.prototype.makeTransport = function (name) {
    var query = Object.assign({}, this.opts.query);
    if (this.id) query.sid = this.id;
    return new TRANSPORTS[name](Object.assign({}, this.opts, { query: query }));
  };

  Engine.prototype.openNext = function () {
    var self = this;
    if (this.transports.length === 0) {
      defer(function () {
        var err = new Error("No transports available");
        self.emitReserved("error", err);
        self.onClose("transport error", err);
      });
      return;
    }
    var t = this.makeTransport(this.transports[0]);
    this.setTransport(t);
    if (this.transports.length > 1 && this.opts.transportTimeout > 0) {
      clearTimeout(this.attemptTimer);
      this.attemptTimer = setTimeout(function () {
        if (self.readyState === "opening" && self.transport === t) {
          self.onError(new Error(t.name + " handshake timeout"));
        }
      }, this.opts.transportTimeout);
    }
    t.open();
  };

  Engine.prototype.setTransport = function (t) {
    var self = this;
    if (this.transport) this.transport.off();
    this.transport = t;
    t.on("drain", function () { self.onDrain(); })
      .on("packet", function (p) { self.onPacket(p); })
      .on("error", function (err) { self.onError(err); })
      .on("close", function (details) { self.onClose("transport close", details); });
  };

  Engine.prototype.onPacket = function (p) {
    if (this.readyState === "closed") return;
    this.emitReserved("packet", p);
    switch (p.type) {
      case "open":
        var data;
        try {
          data = JSON.parse(p.data);
        } catch (e) {
          this.onError(new Error("bad handshake"));
          return;
        }
        this.onHandshake(data);
        break;
      case "ping":
        this.resetPingTimer();
        this.sendPacket("pong");
        this.emitReserved("ping");
        break;
      case "message":
        this.emitReserved("data", p.data);
        break;
      case "close":
        this.onClose("transport close", { description: "server closed the session" });
        break;
    }
  };

  Engine.prototype.onHandshake = function (data) {
    clearTimeout(this.attemptTimer);
    this.id = data.sid;
    this.transport.query.sid = data.sid;
    var allowed = this.opts.transports;
    this.upgrades = (data.upgrades || []).filter(function (u) {
      return allowed.indexOf(u) >= 0 && TRANSPORTS[u];
    });
    if (data.pingInterval > 0) this.pingInterval = data.pingInterval;
    if (data.pingTimeout > 0) this.pingTimeout = data.pingTimeout;
    if (data.maxPayload > 0) this.maxPayload = data.maxPayload;
    this.readyState = "open";
    this.emitReserved("handshake", data);
    this.emitReserved("open");
    if (this.readyState !== "open") return;
    this.resetPingTimer();
    this.flush();
    if (this.opts.upgrade !== false && this.transport.name === "polling") {
      for (var i = 0; i < this.upgrades.length; i++) {
        if (this.upgrades[i] !== "polling" && this.failedTransports.indexOf(this.upgrades[i]) < 0) {
          this.probe(this.upgrades[i]);
          break;
        }
      }
    }
  };

  // resetPingTimer closes the session when the server has not pinged for
  // pingInterval + pingTimeout.
  Engine.prototype.resetPingTimer = function () {
    var self = this;
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(function () {
      self.onClose("ping timeout");
    }, this.pingInterval + this.pingTimeout);
  };

  // probe tries to move the session from polling to transport `name`.
  Engine.prototype.probe = function (name) {
    var self = this;
    var t = this.makeTransport(name);
    var failed = false;
    var paused = false;

    function cleanup() {
      t.off("open", onOpen);
      t.off("error", onError);
      t.off("close", onTransportClose);
      t.off("packet", onProbeReply);
      self.off("close", onEngineClose);
    }
    function fail(reason) {
      if (failed) return;
      failed = true;
      cleanup();
      t.close();
      var err = new Error("probe error: " + reason);
      err.transport = name;
      self.upgrading = false;
      self.emitReserved("upgradeError", err);
      if (paused && self.readyState === "open") {
        // Polling is already paused: the session cannot go on.
        self.onClose("transport error", err);
      } else {
        self.flush();
      }
    }
    function onOpen() {
      t.send([{ type: "ping", data: "probe" }]);
      t.on("packet", onProbeReply);
    }
    function onProbeReply(p) {
      t.off("packet", onProbeReply);
      if (failed) return;
      if (p.type !== "pong" || p.data !== "probe") {
        fail("unexpected reply");
        return;
      }
      self.upgrading = true;
      self.emitReserved("upgrading", t);
      paused = true;
      self.transport.pause(function () {
        if (failed || self.readyState === "closed") return;
        cleanup();
        self.setTransport(t);
        t.send([{ type: "upgrade" }]);
        self.upgrading = false;
        self.emitReserved("upgrade", t);
        self.flush();
      });
    }
    function onError(err) { fail(err && err.message || "error"); }
    function onTransportClose() { fail("transport closed"); }
    function onEngineClose() { fail("socket closed"); }

    t.once("open", onOpen);
    t.once("error", onError);
    t.once("close", onTransportClose);
    this.once("close", onEngineClose);
    t.open();
  };

  Engine.prototype.onDrain = function () {
    this.writeBuffer.splice(0, this.inFlight);
    this.inFlight = 0;
    if (this.writeBuffer.length === 0) this.emitReserved("drain");
    else this.flush();
  };

  Engine.prototype.flush = function () {
    if ((this.readyState !== "open" && this.readyState !== "closing") ||
        this.upgrading || !this.transport || !this.transport.writable ||
        this.inFlight > 0 || this.writeBuffer.length === 0) {
      return;
    }
    var packets = this.writablePackets();
    this.inFlight = packets.length;
    this.transport.send(packets);
    this.emitReserved("flush");
  };

  // writablePackets keeps a polling POST under the server's maxPayload.
  Engine.prototype.writablePackets = function () {
    var buf = this.writeBuffer;
    if (!this.maxPayload || this.transport.name !== "polling" || buf.length < 2) return buf.slice();
    var size = 1;
    for (var i = 0; i < buf.length; i++) {
      var d = buf[i].data;
      if (d != null) size += isBinary(d) ? Math.ceil(d.byteLength * 4 / 3) + 1 : utf8Length(String(d));
      if (i > 0 && size > this.maxPayload) return buf.slice(0, i);
      size += 2;
    }
    return buf.slice();
  };

  Engine.prototype.sendPacket = function (type, data) {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    this.writeBuffer.push({ type: type, data: data });
    this.flush();
  };

  Engine.prototype.write = function (data) {
    this.sendPacket("message", data);
  };

  Engine.prototype.close = function () {
    var self = this;
    if (this.readyState === "closed" || this.readyState === "closing") return this;
    var opening = this.readyState === "opening";
    this.readyState = "closing";
    var finish = function () {
      self.onClose("forced close");
    };
    if (!opening && this.writeBuffer.length > 0 && this.transport.readyState === "open") {
      // Let queued packets (a DISCONNECT, say) go out first.
      var timer = setTimeout(finish, 1000);
      this.once("drain", function () { clearTimeout(timer); finish(); });
      this.flush();
    } else {
      finish();
    }
    return this;
  };

  Engine.prototype.onError = function (err) {
    if (this.readyState === "closed") return;
    if (this.readyState === "opening" && this.transports.length > 1) {
      // Fall back to the next transport (WebSocket blocked, say).
      var failed = this.transports.shift();
      this.failedTransports.push(failed);
      this.emitReserved("transportFailed", failed, err);
      this.transport.off();
      this.transport.close();
      this.openNext();
      return;
    }
    this.emitReserved("error", err);
    this.onClose("transport error", err);
  };

  Engine.prototype.onClose = function (reason, description) {
    if (this.readyState === "closed") return;
    clearTimeout(this.pingTimer);
    clearTimeout(this.attemptTimer);
    if (this.transport) {
      this.transport.off();
      this.transport.close();
    }
    if (typeof root.removeEventListener === "function") root.removeEventListener("offline", this.onOffline, false);
    this.readyState = "closed";
    this.id = null;
    this.writeBuffer = [];
    this.inFlight = 0;
    this.emitReserved("close", reason, description);
  };

  // ---------------------------------------------------------------- Backoff

  function Backoff(min, max, jitter) {
    this.min = min;
    this.max = max;
    this.jitter = jitter > 0 && jitter <= 1 ? jitter : 0;
    this.attempts = 0;
  }

  Backoff.prototype.duration = function () {
    var base = Math.min(this.max, this.min * Math.pow(2, Math.min(this.attempts, 31)));
    this.attempts++;
    if (this.jitter) {
      var spread = base * this.jitter;
      base = base - spread + Math.random() * 2 * spread;
    }
    return Math.max(0, Math.min(base, this.max)) | 0;
  };

  Backoff.prototype.reset = function () {
    this.attempts = 0;
  };

  // ---------------------------------------------------------------- Manager

  // Manager owns the Engine.IO session shared by the namespaces of one
  // server, and reconnects it. Events: "open", "error", "close",
  // "ping", "packet", "reconnect_attempt", "reconnect", "reconnect_error",
  // "reconnect_failed".
  function Manager(uri, opts) {
    if (uri && typeof uri === "object") {
      opts = uri;
      uri = undefined;
    }
    opts = Object.assign({}, opts);
    var target = resolveURL(uri);
    this.uri = target.href;
    this.opts = opts;
    this.nsps = {};
    this.subs = [];
    var path = opts.path || "/socket.io";
    if (opts.addTrailingSlash !== false && path.charAt(path.length - 1) !== "/") path += "/";
    this.engineOpts = {
      host: target.host,
      secure: target.secure,
      path: path,
      query: parseQuery(opts.query),
      transports: (opts.transports || ["websocket", "polling"]).slice(),
      upgrade: opts.upgrade !== false,
      withCredentials: !!opts.withCredentials,
      WebSocket: opts.WebSocket,
      transportTimeout: 0
    };
    this._reconnection = opts.reconnection !== false;
    this._reconnectionAttempts = opts.reconnectionAttempts == null ? Infinity : opts.reconnectionAttempts;
    this._reconnectionDelay = opts.reconnectionDelay == null ? 1000 : opts.reconnectionDelay;
    this._reconnectionDelayMax = opts.reconnectionDelayMax == null ? 5000 : opts.reconnectionDelayMax;
    this._randomizationFactor = opts.randomizationFactor == null ? 0.5 : opts.randomizationFactor;
    this.backoff = new Backoff(this._reconnectionDelay, this._reconnectionDelayMax, this._randomizationFactor);
    this._timeout = opts.timeout == null ? 20000 : opts.timeout;
    this._readyState = "closed";
    this._reconnecting = false;
    this.skipReconnect = false;
    this.preferPolling = false;
    this.decoder = new Decoder();
    this._autoConnect = opts.autoConnect !== false;
    if (this._autoConnect) this.open();
  }
  inherit(Manager, Emitter);

  Manager.prototype.reconnection = function (v) {
    if (v === undefined) return this._reconnection;
    this._reconnection = !!v;
    if (!v) this.skipReconnect = true;
    return this;
  };
  Manager.prototype.reconnectionAttempts = function (v) {
    if (v === undefined) return this._reconnectionAttempts;
    this._reconnectionAttempts = v;
    return this;
  };
  Manager.prototype.reconnectionDelay = function (v) {
    if (v === undefined) return this._reconnectionDelay;
    this._reconnectionDelay = this.backoff.min = v;
    return this;
  };
  Manager.prototype.reconnectionDelayMax = function (v) {
    if (v === undefined) return this._reconnectionDelayMax;
    this._reconnectionDelayMax = this.backoff.max = v;
    return this;
  };
  Manager.prototype.randomizationFactor = function (v) {
    if (v === undefined) return this._randomizationFactor;
    this._randomizationFactor = this.backoff.jitter = v;
    return this;
  };
  Manager.prototype.timeout = function (v) {
    if (v === undefined) return this._timeout;
    this._timeout = v;
    return this;
  };

  // engineOptions picks the transport order for the next session: after a
  // WebSocket failure that polling survived, start with polling and try to
  // upgrade instead of waiting for WebSocket to fail again.
  Manager.prototype.engineOptions = function () {
    var o = Object.assign({}, this.engineOpts);
    o.transports = o.transports.slice();
    if (this.preferPolling && o.transports.indexOf("polling") > 0) {
      o.transports = ["polling"].concat(o.transports.filter(function (t) { return t !== "polling"; }));
    }
    if (this._timeout !== false && this._timeout > 0) o.transportTimeout = Math.min(10000, this._timeout / 2);
    return o;
  };

  Manager.prototype.open = function (fn) {
    var self = this;
    if (this._readyState === "open" || this._readyState === "opening") return this;
    var engine = new Engine(this.engineOptions());
    this.engine = engine;
    this._readyState = "opening";
    this.skipReconnect = false;
    var settled = false;

    function fail(err) {
      if (settled) return;
      settled = true;
      self.cleanup();
      self._readyState = "closed";
      self.emitReserved("error", err);
      if (fn) fn(err);
      else self.maybeReconnectOnOpen();
    }

    this.subs.push(subscribe(engine, "open", function () {
      if (settled) return;
      settled = true;
      self.onopen();
      if (fn) fn();
    }));
    this.subs.push(subscribe(engine, "error", fail));
    this.subs.push(subscribe(engine, "close", function (reason) {
      fail(new Error(reason || "transport close"));
    }));
    this.subs.push(subscribe(engine, "transportFailed", function (name) {
      if (name === "websocket") self.preferPolling = true;
    }));
    this.subs.push(subscribe(engine, "upgrade", function () {
      self.preferPolling = false;
    }));
    if (this._timeout !== false && this._timeout > 0) {
      var timer = setTimeout(function () {
        fail(new Error("timeout"));
        engine.close();
      }, this._timeout);
      this.subs.push(function () { clearTimeout(timer); });
    }
    return this;
  };
  Manager.prototype.connect = Manager.prototype.open;

  Manager.prototype.onopen = function () {
    var self = this;
    var engine = this.engine;
    this.cleanup();
    this._readyState = "open";
    this.emitReserved("open");
    this.subs.push(subscribe(engine, "ping", function () { self.emitReserved("ping"); }));
    this.subs.push(subscribe(engine, "data", function (data) {
      try {
        self.decoder.add(data);
      } catch (err) {
        self.onclose("parse error", err);
      }
    }));
    this.subs.push(subscribe(engine, "error", function (err) { self.emitReserved("error", err); }));
    this.subs.push(subscribe(engine, "close", function (reason, description) {
      self.onclose(reason, description);
    }));
    this.subs.push(subscribe(engine, "transportFailed", function (name) {
      if (name === "websocket") self.preferPolling = true;
    }));
    this.subs.push(subscribe(engine, "upgrade", function () { self.preferPolling = false; }));
    this.subs.push(subscribe(this.decoder, "decoded", function (packet) {
      self.emitReserved("packet", packet);
    }));
  };

  Manager.prototype.socket = function (nsp, opts) {
    var s = this.nsps[nsp];
    if (!s) {
      s = new Socket(this, nsp, opts);
      this.nsps[nsp] = s;
    } else if (this._autoConnect && !s.active) {
      s.connect();
    }
    return s;
  };

  // _destroy closes the session once no namespace socket is active.
  Manager.prototype._destroy = function () {
    for (var nsp in this.nsps) {
      if (this.nsps[nsp].active) return;
    }
    this._close();
  };

  Manager.prototype._packet = function (packet) {
    if (!this.engine) return;
    var frames = encodeSio(packet);
    for (var i = 0; i < frames.length; i++) this.engine.write(frames[i]);
  };

  Manager.prototype.cleanup = function () {
    var subs = this.subs;
    this.subs = [];
    for (var i = 0; i < subs.length; i++) subs[i]();
    this.decoder.destroy();
  };

  Manager.prototype._close = function () {
    this.skipReconnect = true;
    this._reconnecting = false;
    this.onclose("forced close");
  };
  Manager.prototype.disconnect = Manager.prototype._close;
  Manager.prototype.close = Manager.prototype._close;

  Manager.prototype.onclose = function (reason, description) {
    this.cleanup();
    if (this.engine) this.engine.close();
    this.backoff.reset();
    var wasOpen = this._readyState !== "closed";
    this._readyState = "closed";
    if (wasOpen) this.emitReserved("close", reason, description);
    if (this._reconnection && !this.skipReconnect) this.reconnect();
  };

  Manager.prototype.reconnect = function () {
    var self = this;
    if (this._reconnecting || this.skipReconnect) return;
    if (this.backoff.attempts >= this._reconnectionAttempts) {
      this.backoff.reset();
      this._reconnecting = false;
      this.emitReserved("reconnect_failed");
      return;
    }
    var delay = this.backoff.duration();
    this._reconnecting = true;
    var timer = setTimeout(function () {
      if (self.skipReconnect) return;
      self.emitReserved("reconnect_attempt", self.backoff.attempts);
      if (self.skipReconnect) return;
      self.open(function (err) {
        if (err) {
          self._reconnecting = false;
          self.reconnect();
          self.emitReserved("reconnect_error", err);
        } else {
          var attempts = self.backoff.attempts;
          self._reconnecting = false;
          self.backoff.reset();
          self.emitReserved("reconnect", attempts);
        }
      });
    }, delay);
    this.subs.push(function () { clearTimeout(timer); });
  };

  Manager.prototype.maybeReconnectOnOpen = function () {
    if (!this._reconnecting && this._reconnection && this.backoff.attempts === 0) this.reconnect();
  };

  // ----------------------------------------------------------------- Socket

  // Socket is one namespace on a Manager. Local events: "connect",
  // "disconnect"(reason, description), "connect_error"(err), plus the
  // server's events.
  function Socket(io, nsp, opts) {
    this.io = io;
    this.nsp = nsp;
    this.id = undefined;
    this.connected = false;
    this.recovered = false;
    this.receiveBuffer = [];
    this.sendBuffer = [];
    this.ids = 0;
    this.acks = {};
    this.flags = {};
    this._opts = Object.assign({}, opts);
    this.auth = this._opts.auth;
    this._any = [];
    this._anyOutgoing = [];
    this.subs = undefined;
    if (io._autoConnect) this.open();
  }
  inherit(Socket, Emitter);

  Object.defineProperty(Socket.prototype, "disconnected", {
    get: function () { return !this.connected; }
  });
  Object.defineProperty(Socket.prototype, "active", {
    get: function () { return !!this.subs; }
  });
  Object.defineProperty(Socket.prototype, "volatile", {
    get: function () { this.flags.volatile = true; return this; }
  });

  Socket.prototype.subEvents = function () {
    if (this.subs) return;
    var self = this;
    var io = this.io;
    this.subs = [
      subscribe(io, "open", function () { self.onopen(); }),
      subscribe(io, "packet", function (p) { self.onpacket(p); }),
      subscribe(io, "error", function (err) {
        if (!self.connected) self.emitReserved("connect_error", err);
      }),
      subscribe(io, "close", function (reason, description) { self.onclose(reason, description); })
    ];
  };

  Socket.prototype.connect = function () {
    if (this.connected) return this;
    this.subEvents();
    if (!this.io._reconnecting) this.io.open();
    if (this.io._readyState === "open") this.onopen();
    return this;
  };
  Socket.prototype.open = Socket.prototype.connect;

  Socket.prototype.send = function () {
    var args = Array.prototype.slice.call(arguments);
    args.unshift("message");
    return this.emit.apply(this, args);
  };

  // emit sends an event. A trailing function is the ack callback; with
  // timeout(ms) or the ackTimeout option it is called as cb(err, ...args).
  Socket.prototype.emit = function (event) {
    if (Object.prototype.hasOwnProperty.call(RESERVED, event)) {
      throw new Error('"' + String(event) + '" is a reserved event name');
    }
    var args = Array.prototype.slice.call(arguments);
    var packet = { type: T.EVENT, data: args };
    if (typeof args[args.length - 1] === "function") {
      var id = this.ids++;
      this.registerAck(id, args.pop());
      packet.id = id;
    }
    var engine = this.io.engine;
    var writable = engine && engine.readyState === "open" && engine.transport && engine.transport.writable;
    if (this.flags.volatile && (!writable || !this.connected)) {
      // dropped, like the official client's volatile emits
    } else if (this.connected) {
      this.notifyOutgoing(packet);
      this.packet(packet);
    } else {
      this.sendBuffer.push(packet);
    }
    this.flags = {};
    return this;
  };

  Socket.prototype.registerAck = function (id, ack) {
    var self = this;
    var timeout = this.flags.timeout !== undefined ? this.flags.timeout : this._opts.ackTimeout;
    if (timeout === undefined) {
      this.acks[id] = ack;
      return;
    }
    var timer = setTimeout(function () {
      delete self.acks[id];
      self.sendBuffer = self.sendBuffer.filter(function (p) { return p.id !== id; });
      ack.call(self, new Error("operation has timed out"));
    }, timeout);
    var wrapped = function () {
      clearTimeout(timer);
      ack.apply(self, arguments);
    };
    wrapped.withError = true;
    this.acks[id] = wrapped;
  };

  // emitWithAck resolves with the first ack argument. With a timeout it
  // rejects on timeout or disconnection.
  Socket.prototype.emitWithAck = function () {
    var self = this;
    var args = Array.prototype.slice.call(arguments);
    var withErr = this.flags.timeout !== undefined || this._opts.ackTimeout !== undefined;
    return new Promise(function (resolve, reject) {
      args.push(function (a, b) {
        if (withErr) {
          if (a) reject(a);
          else resolve(b);
        } else {
          resolve(a);
        }
      });
      self.emit.apply(self, args);
    });
  };

  Socket.prototype.timeout = function (ms) {
    this.flags.timeout = ms;
    return this;
  };

  Socket.prototype.compress = function (c) {
    this.flags.compress = c;
    return this;
  };

  Socket.prototype.packet = function (packet) {
    packet.nsp = this.nsp;
    this.io._packet(packet);
  };

  Socket.prototype.onopen = function () {
    var self = this;
    if (typeof this.auth === "function") {
      this.auth(function (data) { self.sendConnect(data); });
    } else {
      this.sendConnect(this.auth);
    }
  };

  Socket.prototype.sendConnect = function (data) {
    this.packet({ type: T.CONNECT, data: data == null ? undefined : data });
  };

  Socket.prototype.onpacket = function (packet) {
    if (packet.nsp !== this.nsp) return;
    switch (packet.type) {
      case T.CONNECT:
        if (packet.data && packet.data.sid) {
          this.onconnect(packet.data.sid, packet.data.pid);
        } else {
          this.emitReserved("connect_error", new Error(
            "It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not compatible"));
        }
        break;
      case T.EVENT:
      case T.BINARY_EVENT:
        this.onevent(packet);
        break;
      case T.ACK:
      case T.BINARY_ACK:
        this.onack(packet);
        break;
      case T.DISCONNECT:
        this.destroy();
        this.onclose("io server disconnect");
        break;
      case T.CONNECT_ERROR:
        this.destroy();
        var data = packet.data;
        var err = new Error(typeof data === "string" ? data : data && data.message);
        err.data = data && data.data;
        this.emitReserved("connect_error", err);
        break;
    }
  };

  Socket.prototype.onevent = function (packet) {
    var args = (packet.data || []).slice();
    if (packet.id != null) args.push(this.ack(packet.id));
    if (this.connected) this.emitEvent(args);
    else this.receiveBuffer.push(args);
  };

  Socket.prototype.emitEvent = function (args) {
    var any = this._any.slice();
    for (var i = 0; i < any.length; i++) any[i].apply(this, args);
    Emitter.prototype.emit.apply(this, args);
  };

  Socket.prototype.ack = function (id) {
    var self = this;
    var sent = false;
    return function () {
      if (sent) return;
      sent = true;
      var args = Array.prototype.slice.call(arguments);
      self.packet({ type: T.ACK, id: id, data: args });
    };
  };

  Socket.prototype.onack = function (packet) {
    var ack = this.acks[packet.id];
    if (typeof ack !== "function") return;
    delete this.acks[packet.id];
    var args = (packet.data || []).slice();
    if (ack.withError) args.unshift(null);
    ack.apply(this, args);
  };

  Socket.prototype.onconnect = function (id, pid) {
    this.id = id;
    this.recovered = false;
    this._pid = pid;
    this.connected = true;
    this.emitBuffered();
    this.emitReserved("connect");
  };

  Socket.prototype.emitBuffered = function () {
    var received = this.receiveBuffer;
    this.receiveBuffer = [];
    for (var i = 0; i < received.length; i++) this.emitEvent(received[i]);
    var toSend = this.sendBuffer;
    this.sendBuffer = [];
    for (var j = 0; j < toSend.length; j++) {
      this.notifyOutgoing(toSend[j]);
      this.packet(toSend[j]);
    }
  };

  Socket.prototype.onclose = function (reason, description) {
    var was = this.connected;
    this.connected = false;
    this.id = undefined;
    if (was || reason === "io server disconnect" || reason === "io client disconnect") {
      this.emitReserved("disconnect", reason, description);
    }
    this.clearAcks();
  };

  // clearAcks fails the pending acks whose packet was already sent; packets
  // still in sendBuffer keep theirs and go out on the next connect.
  Socket.prototype.clearAcks = function () {
    var self = this;
    Object.keys(this.acks).forEach(function (id) {
      var buffered = self.sendBuffer.some(function (p) { return String(p.id) === id; });
      if (buffered) return;
      var ack = self.acks[id];
      delete self.acks[id];
      if (ack.withError) ack.call(self, new Error("socket has been disconnected"));
    });
  };

  Socket.prototype.destroy = function () {
    if (this.subs) {
      var subs = this.subs;
      this.subs = undefined;
      for (var i = 0; i < subs.length; i++) subs[i]();
    }
    this.io._destroy(this);
  };

  Socket.prototype.disconnect = function () {
    if (this.connected) this.packet({ type: T.DISCONNECT });
    this.destroy();
    if (this.connected) this.onclose("io client disconnect");
    return this;
  };
  Socket.prototype.close = Socket.prototype.disconnect;

  Socket.prototype.onAny = function (fn) { this._any.push(fn); return this; };
  Socket.prototype.prependAny = function (fn) { this._any.unshift(fn); return this; };
  Socket.prototype.offAny = function (fn) {
    if (!fn) this._any = [];
    else this._any = this._any.filter(function (f) { return f !== fn; });
    return this;
  };
  Socket.prototype.listenersAny = function () { return this._any.slice(); };
  Socket.prototype.onAnyOutgoing = function (fn) { this._anyOutgoing.push(fn); return this; };
  Socket.prototype.prependAnyOutgoing = function (fn) { this._anyOutgoing.unshift(fn); return this; };
  Socket.prototype.offAnyOutgoing = function (fn) {
    if (!fn) this._anyOutgoing = [];
    else this._anyOutgoing = this._anyOutgoing.filter(function (f) { return f !== fn; });
    return this;
  };
  Socket.prototype.listenersAnyOutgoing = function () { return this._anyOutgoing.slice(); };

  Socket.prototype.notifyOutgoing = function (packet) {
    if (!this._anyOutgoing.length) return;
    var list = this._anyOutgoing.slice();
    for (var i = 0; i < list.length; i++) list[i].apply(this, packet.data);
  };

  // --------------------------------------------------------------------- io

  // resolveURL turns io()'s url argument into host, secure flag, namespace.
  function resolveURL(uri) {
    var base = root.location && root.location.href;
    var u;
    if (uri === undefined || uri === null || uri === "") {
      if (!base) throw new Error("io(): a URL is required outside a browser page");
      u = new URL(base);
      u = new URL(u.protocol + "//" + u.host + "/");
    } else {
      var s = String(uri);
      if (s.indexOf("//") === 0 && root.location) s = root.location.protocol + s;
      u = base ? new URL(s, base) : new URL(s);
    }
    var protocol = u.protocol.replace(":", "");
    var secure = protocol === "https" || protocol === "wss";
    return {
      host: u.host,
      secure: secure,
      nsp: u.pathname || "/",
      query: u.search ? u.search.slice(1) : "",
      id: (secure ? "https://" : "http://") + u.host,
      href: (secure ? "https://" : "http://") + u.host + (u.pathname || "/")
    };
  }

  var managers = {};

  function io(uri, opts) {
    if (uri && typeof uri === "object") {
      opts = uri;
      uri = undefined;
    }
    opts = Object.assign({}, opts);
    var target = resolveURL(uri);
    var path = opts.path || "/socket.io";
    var key = target.id + "|" + path;
    if (target.query && !opts.query) opts.query = target.query;
    var cached = managers[key];
    var fresh = opts.forceNew || opts["force new connection"] || opts.multiplex === false ||
      (cached && Object.prototype.hasOwnProperty.call(cached.nsps, target.nsp));
    var manager;
    if (fresh) {
      manager = new Manager(target.id, opts);
    } else {
      manager = cached || (managers[key] = new Manager(target.id, opts));
    }
    return manager.socket(target.nsp, opts);
  }

  io.connect = io;
  io.io = io;
  io.protocol = sio.protocol;
  io.Manager = Manager;
  io.Socket = Socket;
  io.parser = sio;
  io.engineParser = eio;
  io.Engine = Engine;

  root.io = io;
  if (typeof module === "object" && module && module.exports) module.exports = io;
})(typeof window !== "undefined" ? window : globalThis);
