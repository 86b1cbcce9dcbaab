/*
 * Shared helpers for Noom pages: configuration from <body data-*>, the saved
 * nickname, input rules, the signaling connection and its status pill.
 * Exposes window.NoomCommon. No third-party code.
 */
(function (root) {
  "use strict";

  var NAME_KEY = "noom.name";
  // Same rule as web.ValidateRoomName (Go's unicode.IsPrint): letters,
  // marks, numbers, punctuation, symbols, the ASCII space and the
  // zero-width joiners; no control or other format (bidi) characters.
  var PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} \u200C\u200D]+$/u;

  function config() {
    var d = document.body.dataset;
    return {
      page: d.page || "",
      title: d.title || "Noom",
      signalingPath: d.signalingPath || "/socket.io/",
      maxRoomSize: parseInt(d.maxRoomSize, 10) || 8,
      statsIntervalMs: parseInt(d.statsIntervalMs, 10) || 5000,
      room: d.room || ""
    };
  }

  function runeLength(s) {
    return Array.from(s).length;
  }

  // validRoom mirrors the server: 1..64 printable characters, no
  // leading or trailing space.
  function roomError(name) {
    if (!name) return "Enter a room name.";
    if (runeLength(name) > 64) return "Room names are at most 64 characters.";
    if (!PRINTABLE.test(name)) return "Room names can only use printable characters.";
    if (name.charAt(0) === " " || name.charAt(name.length - 1) === " ") {
      return "Room names can't start or end with a space.";
    }
    return "";
  }

  function nameError(name) {
    if (!name) return "Enter your name.";
    if (runeLength(name) > 32) return "Names are at most 32 characters.";
    if (!PRINTABLE.test(name)) return "Names can only use printable characters.";
    return "";
  }

  // passcodeError mirrors the server: empty (no passcode), or 1..64
  // printable characters.
  function passcodeError(code) {
    if (!code) return "";
    if (runeLength(code) > 64) return "Passcodes are at most 64 characters.";
    if (!PRINTABLE.test(code) || code.trim() !== code) return "Passcodes use printable characters, no surrounding spaces.";
    return "";
  }

  // meetingCode returns a fresh meeting code: 26 characters of lowercase
  // base32 (130 random bits), the form the server never lists.
  function meetingCode() {
    var alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    var buf = new Uint8Array(26);
    root.crypto.getRandomValues(buf);
    var out = "";
    for (var i = 0; i < buf.length; i++) out += alphabet.charAt(buf[i] & 31);
    return out;
  }

  function savedName() {
    try {
      return (root.localStorage.getItem(NAME_KEY) || "").slice(0, 64);
    } catch (e) {
      return "";
    }
  }

  function saveName(name) {
    try {
      root.localStorage.setItem(NAME_KEY, name);
    } catch (e) {
      /* storage disabled: the name is simply not remembered */
    }
  }

  function roomPath(name) {
    return "/room/" + encodeURIComponent(name);
  }

  // el builds an element: el("li", {class: "x", "data-testid": "y"}, "text" | Node...)
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === false || v == null) return;
        if (k === "text") node.textContent = v;
        else node.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null) continue;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }

  function formatTime(ts) {
    var d = ts ? new Date(ts) : new Date();
    if (isNaN(d.getTime())) d = new Date();
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // setStatus updates the connection pill: state is "connecting", "online"
  // or "offline".
  var STATUS_TEXT = { connecting: "connecting…", online: "online", offline: "offline" };
  function setStatus(state, detail) {
    var pill = document.querySelector('[data-testid="connection-status"]');
    if (!pill) return;
    pill.dataset.state = state;
    var text = pill.querySelector(".conn__text");
    var label = STATUS_TEXT[state] || state;
    if (detail) label += " · " + detail;
    if (text && text.textContent !== label) text.textContent = label;
  }

  // connect opens the signaling socket and keeps the status pill current.
  // It returns null (and shows "offline") when the client library is
  // missing, so pages degrade instead of throwing.
  function connect(cfg) {
    if (typeof root.io !== "function") {
      setStatus("offline", "client library missing");
      return null;
    }
    var socket = root.io({
      path: cfg.signalingPath,
      transports: ["websocket", "polling"]
    });
    setStatus("connecting");
    socket.on("connect", function () { setStatus("online"); });
    // A server that shuts down (a restart, a deploy) disconnects us with
    // "io server disconnect", after which Socket.IO clients do not retry on
    // their own. The call protocol has no kick, so come back after a short
    // random delay (spreading the reconnect storm), growing while it repeats.
    var kicks = 0;
    var kickTimer = null;
    socket.on("connect", function () {
      setTimeout(function () { if (socket.connected) kicks = 0; }, 30000);
    });
    socket.on("disconnect", function (reason) {
      setStatus(reason === "io client disconnect" ? "offline" : "connecting");
      if (reason === "io server disconnect" && !kickTimer) {
        var delay = Math.min(30000, 1000 * Math.pow(2, kicks++)) * (0.5 + Math.random());
        kickTimer = setTimeout(function () {
          kickTimer = null;
          if (!socket.connected) socket.connect();
        }, delay);
      }
    });
    socket.on("connect_error", function () { setStatus("offline"); });
    socket.io.on("reconnect_attempt", function () {
      if (!socket.connected) setStatus("offline", "retrying");
    });
    socket.io.on("reconnect_failed", function () { setStatus("offline"); });
    return socket;
  }

  // request emits a call-protocol event and resolves with the ack, or
  // rejects with an Error whose .code is the protocol error code
  // ("timeout" when no ack came).
  function request(socket, event, payload, timeoutMs) {
    return new Promise(function (resolve, reject) {
      if (!socket) {
        var e = new Error("not connected");
        e.code = "offline";
        reject(e);
        return;
      }
      socket.timeout(timeoutMs || 10000).emit(event, payload || {}, function (err, ack) {
        if (err) {
          var te = new Error("The server did not answer.");
          te.code = "timeout";
          reject(te);
          return;
        }
        if (!ack || ack.ok !== true) {
          var info = (ack && ack.error) || {};
          var pe = new Error(info.message || "request failed");
          pe.code = info.code || "error";
          reject(pe);
          return;
        }
        resolve(ack);
      });
    });
  }

  root.NoomCommon = {
    config: config,
    roomError: roomError,
    nameError: nameError,
    passcodeError: passcodeError,
    meetingCode: meetingCode,
    savedName: savedName,
    saveName: saveName,
    roomPath: roomPath,
    el: el,
    formatTime: formatTime,
    setStatus: setStatus,
    connect: connect,
    request: request
  };
})(window);
