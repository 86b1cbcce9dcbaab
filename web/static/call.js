/*
 * The call page: joins the room over the Noom call protocol, runs one
 * NoomPeer per remote participant (mesh), draws the video tiles, chat,
 * device controls, and reports call-stats. Re-joins after the signaling
 * socket reconnects.
 *
 * Query parameters (for tests and debugging):
 *   ?relay=1 or ?ice=relay  iceTransportPolicy "relay" on every connection
 *   ?name=NAME              prefill the nickname
 *   ?autojoin=1             join as soon as the socket is connected
 *   ?debug=1                trace signaling and negotiation to the console
 *
 * window.noom (read-only test hook):
 *   state()  -> {page, room, name, phase, joined, selfId, socketId,
 *                signaling ("connected"|"disconnected"|"unavailable"),
 *                transport ("websocket"|"polling"), relay,
 *                local: {audio, video, muted, cameraOff, videoLabel, audioLabel},
 *                peers: [{id, name, connectionState}]}
 *   peers()  -> Promise<[{id, name, connectionState, iceConnectionState,
 *                signalingState, framesDecoded, candidateType, protocol,
 *                rttMs, bytesSent, bytesReceived}]>
 */
(function (root) {
  "use strict";

  var C = root.NoomCommon;
  var cfg = C.config();
  var params = new URLSearchParams(root.location.search);
  var debug = params.get("debug") === "1";
  var relay = params.get("relay") === "1" || params.get("relay") === "true" || params.get("ice") === "relay";

  function q(testid) {
    return document.querySelector('[data-testid="' + testid + '"]');
  }

  var ui = {
    room: q("room"),
    grid: q("video-grid"),
    localTile: document.querySelector('[data-testid="tile"][data-local="true"]'),
    localVideo: q("local-video"),
    tileTemplate: document.getElementById("tile-template"),
    lobby: q("lobby"),
    lobbyForm: document.getElementById("lobby-form"),
    nameInput: document.getElementById("name-input"),
    passcodeInput: document.getElementById("passcode-input"),
    joinButton: q("join-button"),
    joinError: q("join-error"),
    leaveButton: q("leave-button"),
    muteButton: q("mute-button"),
    cameraButton: q("camera-button"),
    micOffBadge: q("mic-off-badge"),
    camOffBadge: q("cam-off-badge"),
    status: q("status"),
    chatLog: q("chat-log"),
    chatForm: document.getElementById("chat-form"),
    chatInput: document.getElementById("chat-input"),
    chatSend: q("chat-send"),
    copyLink: q("copy-link-button")
  };

  var state = {
    phase: "lobby", // lobby | joining | joined
    wantJoined: false,
    name: "",
    passcode: "",
    selfId: "",
    iceServers: [],
    peers: new Map(), // id -> {peer: NoomPeer, tile: Element, name: string}
    names: new Map(), // id -> name, for signals that arrive before peer-joined
    pending: [] // [handler, payload] received while a join is in flight
  };

  function status(text) {
    ui.status.textContent = text;
  }

  // ---------------------------------------------------------------- media

  var media = new root.NoomMedia.LocalMedia({
    video: ui.localVideo,
    cameraSelect: q("camera-select"),
    micSelect: q("mic-select"),
    statusEl: q("media-status"),
    onTrackChange: function (kind, track) {
      var jobs = [];
      state.peers.forEach(function (entry) {
        jobs.push(entry.peer.replaceTrack(kind, track, media.stream));
      });
      return Promise.all(jobs);
    },
    onChange: renderLocal
  });
  var mediaReady = media.start();

  function renderLocal() {
    var hasAudio = !!media.track("audio");
    var hasVideo = !!media.track("video");
    ui.muteButton.setAttribute("aria-pressed", String(media.muted));
    ui.muteButton.textContent = media.muted ? "Unmute" : "Mute";
    ui.muteButton.disabled = !hasAudio;
    ui.cameraButton.setAttribute("aria-pressed", String(media.cameraOff));
    ui.cameraButton.textContent = media.cameraOff ? "Camera on" : "Camera off";
    ui.cameraButton.disabled = !hasVideo;
    ui.micOffBadge.hidden = !(media.muted || !hasAudio);
    ui.camOffBadge.hidden = !(media.cameraOff || !hasVideo);
    ui.localTile.dataset.video = String(hasVideo && !media.cameraOff);
    setTileName(ui.localTile, state.name ? state.name + " (you)" : "You");
  }

  ui.muteButton.addEventListener("click", function () { media.setMuted(!media.muted); });
  ui.cameraButton.addEventListener("click", function () { media.setCameraOff(!media.cameraOff); });

  // ---------------------------------------------------------------- tiles

  function setTileName(tile, name) {
    var label = tile.querySelector('[data-testid="tile-name"]');
    if (label.textContent !== name) label.textContent = name;
    var avatar = tile.querySelector(".tile__avatar");
    if (avatar) avatar.textContent = (Array.from(name.trim())[0] || "?").toUpperCase();
  }

  var STATE_TEXT = {
    "new": "connecting", connecting: "connecting", connected: "connected",
    disconnected: "reconnecting", failed: "failed", closed: "closed", restarting: "restarting",
    checking: "connecting", completed: "connected"
  };

  function makeTile(id, name) {
    var tile = ui.tileTemplate.content.firstElementChild.cloneNode(true);
    tile.dataset.peerId = id;
    var video = tile.querySelector("video");
    video.setAttribute("aria-label", "Video of " + name);
    setTileName(tile, name);
    ui.grid.appendChild(tile);
    updateGridCount();
    return tile;
  }

  function setTileState(tile, s) {
    tile.dataset.state = s;
    var el = tile.querySelector('[data-testid="peer-state"]');
    var text = STATE_TEXT[s] || s;
    if (el.textContent !== text) el.textContent = text;
  }

  function updateGridCount() {
    ui.grid.dataset.count = String(ui.grid.querySelectorAll('[data-testid="tile"]').length);
  }

  // ---------------------------------------------------------------- peers

  var iceRefresh = null;
  // refreshIceServers asks the hub for fresh TURN credentials; concurrent
  // callers share one request.
  function refreshIceServers() {
    if (!iceRefresh) {
      iceRefresh = C.request(socket, "ice-servers", {}).then(function (ack) {
        if (Array.isArray(ack.iceServers)) state.iceServers = ack.iceServers;
        return state.iceServers;
      }).finally(function () { iceRefresh = null; });
    }
    return iceRefresh;
  }

  function rtcConfig() {
    var c = { iceServers: state.iceServers, bundlePolicy: "max-bundle" };
    if (relay) c.iceTransportPolicy = "relay";
    return c;
  }

  // addPeer starts the connection to a participant. The initiator (the one
  // who joined last) makes the first offer.
  function addPeer(id, name, initiator) {
    if (!id || id === state.selfId) return null;
    var existing = state.peers.get(id);
    if (existing) {
      if (name && name !== existing.name) {
        existing.name = name;
        setTileName(existing.tile, name);
      }
      return existing;
    }
    name = name || state.names.get(id) || "Guest";
    var tile = makeTile(id, name);
    var entry = { name: name, tile: tile, peer: null };
    entry.peer = new root.NoomPeer({
      id: id,
      name: name,
      // Perfect negotiation: exactly one side of each pair is polite.
      polite: state.selfId < id,
      initiator: !!initiator,
      rtcConfig: rtcConfig(),
      stream: media.stream,
      send: function (data) {
        return C.request(socket, "signal", { to: id, data: data });
      },
      iceServers: refreshIceServers,
      onTrack: function (stream) {
        var video = tile.querySelector("video");
        if (video.srcObject !== stream) video.srcObject = stream;
        var p = video.play();
        if (p && p.catch) p.catch(function () {});
      },
      onState: function (s) { setTileState(tile, s); },
      debug: debug,
      log: function (msg) { if (root.console) console.debug("[noom]", msg); }
    });
    setTileState(tile, "new");
    state.peers.set(id, entry);
    return entry;
  }

  function removePeer(id) {
    var entry = state.peers.get(id);
    if (!entry) return;
    entry.peer.close();
    var video = entry.tile.querySelector("video");
    video.srcObject = null;
    entry.tile.remove();
    state.peers.delete(id);
    updateGridCount();
  }

  function removeAllPeers() {
    Array.from(state.peers.keys()).forEach(removePeer);
  }

  // ---------------------------------------------------------------- join

  function setPhase(phase) {
    state.phase = phase;
    var joined = phase === "joined";
    ui.room.dataset.joined = String(joined);
    ui.lobby.hidden = joined;
    ui.leaveButton.hidden = !joined;
    ui.joinButton.disabled = phase === "joining";
    ui.chatInput.disabled = !joined;
    ui.chatSend.disabled = !joined;
    ui.chatInput.placeholder = joined ? "Message" : "Message (join to chat)";
  }

  var JOIN_ERRORS = {
    room_full: "This room is full (" + cfg.maxRoomSize + " people).",
    bad_passcode: "This room has a passcode, and that is not it. Ask whoever invited you.",
    name_taken: "Someone in this room already uses that name. Pick another one.",
    too_many_rooms: "You are in too many rooms at once. Leave one first.",
    bad_request: "The server refused that name or room.",
    rate_limited: "Too many attempts. Wait a moment and try again.",
    unavailable: "The server cannot take you in right now. Try again.",
    timeout: "The server did not answer. Try again.",
    offline: "Not connected to the server."
  };
  // The field each error is about.
  var JOIN_ERROR_FIELD = { bad_passcode: "passcodeInput", name_taken: "nameInput", bad_request: "nameInput" };

  function join() {
    var name = ui.nameInput.value.trim();
    var err = C.nameError(name);
    if (err) {
      ui.joinError.textContent = err;
      ui.nameInput.setAttribute("aria-invalid", "true");
      ui.nameInput.focus();
      return;
    }
    ui.nameInput.removeAttribute("aria-invalid");
    var passcode = ui.passcodeInput.value;
    err = C.passcodeError(passcode);
    if (err) {
      ui.joinError.textContent = err;
      ui.passcodeInput.setAttribute("aria-invalid", "true");
      ui.passcodeInput.focus();
      return;
    }
    ui.passcodeInput.removeAttribute("aria-invalid");
    ui.joinError.textContent = "";
    C.saveName(name);
    state.name = name;
    state.passcode = passcode;
    state.wantJoined = true;
    renderLocal();
    if (!socket) {
      ui.joinError.textContent = JOIN_ERRORS.offline;
      return;
    }
    if (!socket.connected) {
      status("Waiting for the server…");
      setPhase("joining");
      return; // the connect handler joins
    }
    doJoin();
  }

  function doJoin() {
    if (state.phase === "joining" && state.joinInFlight) return;
    setPhase("joining");
    state.joinInFlight = true;
    status("Joining…");
    mediaReady.then(function () {
      var req = { room: cfg.room, name: state.name };
      if (state.passcode) req.passcode = state.passcode;
      return C.request(socket, "join", req);
    }).then(function (ack) {
      state.joinInFlight = false;
      if (!state.wantJoined) {
        // Left while the join was in flight.
        C.request(socket, "leave", { room: cfg.room }).catch(function () {});
        return;
      }
      // A (re)join gives us a new id: connections made under the old one
      // are gone on the other side too.
      removeAllPeers();
      state.selfId = ack.id || socket.id;
      state.iceServers = Array.isArray(ack.iceServers) ? ack.iceServers : [];
      setPhase("joined");
      (ack.peers || []).forEach(function (p) {
        if (p && p.id) {
          state.names.set(p.id, p.name);
          addPeer(p.id, p.name, true);
        }
      });
      var pending = state.pending;
      state.pending = [];
      pending.forEach(function (ev) { ev[0](ev[1]); });
      var n = state.peers.size;
      status(n === 0 ? "You're the first one here. Share the link to invite others." :
        "Joined. " + n + (n === 1 ? " other person" : " other people") + " here.");
      ui.chatInput.focus();
    }, function (err) {
      state.joinInFlight = false;
      state.wantJoined = false;
      state.pending = [];
      setPhase("lobby");
      ui.joinError.textContent = JOIN_ERRORS[err.code] || err.message;
      ui.joinError.dataset.code = err.code || "";
      var field = ui[JOIN_ERROR_FIELD[err.code]];
      if (field) {
        field.setAttribute("aria-invalid", "true");
        field.focus();
      }
      status("");
    });
  }

  function leave() {
    state.wantJoined = false;
    if (socket && socket.connected) {
      C.request(socket, "leave", { room: cfg.room }).catch(function () {});
    }
    removeAllPeers();
    state.selfId = "";
    setPhase("lobby");
    status("You left the call.");
    ui.joinButton.focus();
  }

  ui.lobbyForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    join();
  });
  ui.leaveButton.addEventListener("click", leave);

  // ---------------------------------------------------------------- chat

  function appendChat(name, text, ts, mine) {
    var item = C.el("li", { class: "chat__msg" + (mine ? " chat__msg--mine" : ""), "data-testid": "chat-message" },
      C.el("span", { class: "chat__meta" },
        C.el("span", { class: "chat__name", "data-testid": "chat-name", text: name }),
        " ",
        C.el("time", { class: "chat__time", text: C.formatTime(ts) })),
      C.el("span", { class: "chat__text", "data-testid": "chat-text", text: text }));
    appendLog(item);
  }

  function appendSystem(text) {
    appendLog(C.el("li", { class: "chat__msg chat__msg--system", "data-testid": "chat-system", text: text }));
  }

  function appendLog(item) {
    var log = ui.chatLog;
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.appendChild(item);
    while (log.children.length > 500) log.removeChild(log.firstChild);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  ui.chatForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = ui.chatInput.value.trim();
    if (!text || state.phase !== "joined") return;
    if (Array.from(text).length > 2000) {
      status("Messages are at most 2000 characters.");
      return;
    }
    ui.chatSend.disabled = true;
    C.request(socket, "chat", { room: cfg.room, text: text }).then(function (ack) {
      appendChat(state.name + " (you)", text, ack.ts, true);
      ui.chatInput.value = "";
    }, function (err) {
      status(err.code === "rate_limited" ? "You're sending messages too fast." : "Message not sent: " + err.message);
    }).then(function () {
      ui.chatSend.disabled = state.phase !== "joined";
      ui.chatInput.focus();
    });
  });

  // ---------------------------------------------------------------- socket

  var socket = C.connect(cfg);

  if (socket && debug) {
    socket.onAny(function (ev, payload) {
      console.debug("[noom] <- " + ev + " " + JSON.stringify(payload).slice(0, 160));
    });
    socket.onAnyOutgoing(function (ev, payload) {
      console.debug("[noom] -> " + ev + " " + JSON.stringify(payload).slice(0, 160));
    });
  }

  if (socket) {
    socket.on("connect", function () {
      if (state.wantJoined) {
        if (state.phase === "joined") status("Reconnected. Rejoining…");
        state.joinInFlight = false;
        doJoin();
      } else if (params.get("autojoin") === "1" && state.phase === "lobby" && ui.nameInput.value.trim()) {
        join();
      }
    });
    socket.on("disconnect", function () {
      if (state.wantJoined) status("Connection to the server lost. Reconnecting…");
    });
    // While a join is in flight, room events wait for its ack.
    var whenJoined = function (handler) {
      return function (payload) {
        if (state.phase === "joining") state.pending.push([handler, payload]);
        else if (state.phase === "joined") handler(payload);
      };
    };
    socket.on("peer-joined", whenJoined(function (p) {
      if (!p || !p.id) return;
      state.names.set(p.id, p.name);
      var isNew = !state.peers.has(p.id);
      addPeer(p.id, p.name);
      if (isNew) {
        appendSystem((p.name || "Someone") + " joined.");
        status("");
      }
    }));
    socket.on("peer-left", function (p) {
      if (!p || !p.id) return;
      var entry = state.peers.get(p.id);
      if (entry) appendSystem(entry.name + " left.");
      removePeer(p.id);
      state.names.delete(p.id);
    });
    socket.on("signal", whenJoined(function (msg) {
      if (!msg || !msg.from) return;
      var entry = state.peers.get(msg.from) || addPeer(msg.from, state.names.get(msg.from));
      if (entry) entry.peer.handleSignal(msg.data);
    }));
    socket.on("chat", function (m) {
      if (!m || typeof m.text !== "string") return;
      appendChat(String(m.name || "Someone"), m.text, m.ts, false);
    });
  } else {
    status("The signaling client did not load. Calls are unavailable.");
  }

  // ---------------------------------------------------------------- stats

  function reportStats() {
    if (!socket || !socket.connected || state.phase !== "joined") return;
    state.peers.forEach(function (entry) {
      entry.peer.stats().then(function (s) {
        entry.tile.dataset.candidateType = s.candidateType;
        if (!socket.connected || state.phase !== "joined") return;
        C.request(socket, "call-stats", {
          peer: s.peer,
          state: s.state,
          candidateType: s.candidateType,
          protocol: s.protocol,
          rttMs: s.rttMs,
          bytesSent: s.bytesSent,
          bytesReceived: s.bytesReceived
        }).catch(function () { /* stats are best effort */ });
      });
    });
  }
  setInterval(reportStats, cfg.statsIntervalMs);

  // ---------------------------------------------------------------- misc

  ui.copyLink.addEventListener("click", function () {
    var url = root.location.origin + C.roomPath(cfg.room);
    var done = function () { status("Link copied."); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(done, function () { status("Room link: " + url); });
    } else {
      status("Room link: " + url);
    }
  });

  root.addEventListener("pagehide", function () {
    if (socket && state.phase === "joined") socket.disconnect();
    media.stop();
  });

  ui.nameInput.value = params.get("name") || C.savedName();
  setPhase("lobby");
  renderLocal();

  // With ?debug=1 only: raw access for troubleshooting (not a stable API).
  var debugHook = !debug ? undefined : {
    peers: function () { return state.peers; },
    media: function () { return media; },
    socket: function () { return socket; }
  };

  root.noom = {
    debug: debugHook,
    state: function () {
      var peers = [];
      state.peers.forEach(function (e, id) {
        peers.push({ id: id, name: e.name, connectionState: e.peer.state() });
      });
      return {
        page: "room",
        room: cfg.room,
        name: state.name,
        phase: state.phase,
        joined: state.phase === "joined",
        selfId: state.selfId,
        signaling: socket ? (socket.connected ? "connected" : "disconnected") : "unavailable",
        socketId: socket && socket.id || "",
        transport: socket && socket.io.engine && socket.io.engine.transport ? socket.io.engine.transport.name : "",
        relay: relay,
        local: {
          audio: !!media.track("audio"),
          video: !!media.track("video"),
          muted: media.muted,
          cameraOff: media.cameraOff,
          videoLabel: media.track("video") ? media.track("video").label : "",
          audioLabel: media.track("audio") ? media.track("audio").label : ""
        },
        peers: peers
      };
    },
    peers: function () {
      var list = [];
      state.peers.forEach(function (e, id) {
        list.push(e.peer.stats().then(function (s) {
          return {
            id: id,
            name: e.name,
            connectionState: s.state,
            iceConnectionState: s.iceConnectionState,
            signalingState: s.signalingState,
            framesDecoded: s.framesDecoded,
            candidateType: s.candidateType,
            protocol: s.protocol,
            rttMs: s.rttMs,
            bytesSent: s.bytesSent,
            bytesReceived: s.bytesReceived,
            sending: e.peer.pc.getSenders().filter(function (x) { return x.track; }).map(function (x) {
              return x.track.kind + ":" + x.track.label + ":" + x.track.readyState;
            })
          };
        }));
      });
      return Promise.all(list);
    }
  };
})(window);
