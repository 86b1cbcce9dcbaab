/*
 * Home page: nickname (saved in localStorage), live list of the largest
 * public rooms (subscribed with "rooms:subscribe": the ack carries the list
 * and its version v, each "rooms" push the changes of version v+1), create
 * or enter a room, or start a private meeting with an unguessable name.
 */
(function (root) {
  "use strict";

  var C = root.NoomCommon;
  var cfg = C.config();
  var form = document.getElementById("join-form");
  var nameInput = document.getElementById("name-input");
  var roomInput = document.getElementById("room-input");
  var errorBox = document.getElementById("join-error");
  var list = document.querySelector('[data-testid="room-list"]');
  var empty = document.querySelector('[data-testid="rooms-empty"]');
  var more = document.querySelector('[data-testid="rooms-more"]');

  // The list as the server sent it: name -> size, its total and version.
  var state = { signaling: "connecting", rooms: [], byName: new Map(), total: 0, v: -1, resync: false };

  nameInput.value = C.savedName();
  nameInput.addEventListener("input", function () {
    var v = nameInput.value.trim();
    if (!C.nameError(v)) C.saveName(v);
  });

  document.getElementById("new-meeting").addEventListener("click", function () {
    var name = nameInput.value.trim();
    var err = C.nameError(name);
    if (err) return showError(err, nameInput);
    showError("", null);
    C.saveName(name);
    root.location.assign(C.roomPath(C.meetingCode()));
  });

  document.getElementById("random-room").addEventListener("click", function () {
    roomInput.value = randomRoomName();
    roomInput.focus();
  });

  function showError(msg, field) {
    errorBox.textContent = msg;
    [nameInput, roomInput].forEach(function (f) {
      if (f === field) f.setAttribute("aria-invalid", "true");
      else f.removeAttribute("aria-invalid");
    });
    if (field) field.focus();
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var name = nameInput.value.trim();
    var room = roomInput.value.trim();
    var err = C.nameError(name);
    if (err) return showError(err, nameInput);
    err = C.roomError(room);
    if (err) return showError(err, roomInput);
    showError("", null);
    C.saveName(name);
    root.location.assign(C.roomPath(room));
  });

  function renderRooms() {
    if (!list) return;
    state.rooms = [];
    state.byName.forEach(function (size, name) { state.rooms.push({ name: name, size: size }); });
    state.rooms.sort(function (a, b) {
      return (b.size - a.size) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
    var items = state.rooms.map(function (r) {
      var size = Number(r.size) || 0;
      var full = size >= cfg.maxRoomSize;
      var link = C.el("a", { class: "rooms__link", href: C.roomPath(String(r.name)) },
        C.el("span", { class: "rooms__name", text: String(r.name) }),
        C.el("span", {
          class: "rooms__count" + (full ? " rooms__count--full" : ""),
          "data-testid": "room-count",
          "aria-label": size + " of " + cfg.maxRoomSize + " people" + (full ? ", full" : ""),
          text: size + " / " + cfg.maxRoomSize
        }));
      return C.el("li", { class: "rooms__item", "data-testid": "room-item", "data-room": String(r.name), "data-size": size }, link);
    });
    list.replaceChildren.apply(list, items);
    list.setAttribute("aria-busy", "false");
    var hidden = state.total - items.length;
    more.hidden = hidden <= 0;
    more.textContent = hidden > 0 ? "…and " + hidden + " smaller " + (hidden === 1 ? "room" : "rooms") + "." : "";
    if (items.length === 0) {
      empty.hidden = false;
      empty.dataset.state = "empty";
      empty.textContent = "No public rooms right now. Start one!";
    } else {
      empty.hidden = true;
    }
  }

  // setList replaces the list with an ack's (rooms, total, v).
  function setList(ack) {
    state.byName = new Map();
    (Array.isArray(ack.rooms) ? ack.rooms : []).forEach(function (r) {
      state.byName.set(String(r.name), Number(r.size) || 0);
    });
    state.total = Number(ack.total) || 0;
    state.v = Number(ack.v) || 0;
    renderRooms();
  }

  // applyPush applies a push of the next version; pushes the list already
  // has are skipped, and a gap (a push lost while reconnecting) fetches the
  // whole list again.
  function applyPush(d) {
    if (!d || typeof d.v !== "number" || state.v < 0 || d.v <= state.v) return;
    if (d.v !== state.v + 1) {
      resync();
      return;
    }
    (Array.isArray(d.set) ? d.set : []).forEach(function (r) {
      state.byName.set(String(r.name), Number(r.size) || 0);
    });
    (Array.isArray(d.del) ? d.del : []).forEach(function (name) { state.byName.delete(String(name)); });
    state.total = Number(d.total) || 0;
    state.v = d.v;
    renderRooms();
  }

  function resync() {
    if (state.resync) return;
    state.resync = true;
    C.request(socket, "rooms", {}).then(function (ack) {
      state.resync = false;
      if (ack.v > state.v) setList(ack);
    }, function () {
      state.resync = false;
    });
  }

  function showListMessage(kind, text) {
    if (!list) return;
    list.replaceChildren();
    list.setAttribute("aria-busy", "false");
    more.hidden = true;
    empty.hidden = false;
    empty.dataset.state = kind;
    empty.textContent = text;
  }

  function showOffline() {
    state.signaling = "offline";
    showListMessage("offline", "Offline: the room list will appear when the server is reachable.");
  }

  var socket = C.connect(cfg);
  if (!socket) {
    showOffline();
  } else {
    socket.on("connect", function () {
      state.signaling = "connected";
      if (!list) return; // the server hides the list
      state.v = -1;
      C.request(socket, "rooms:subscribe", {}).then(setList, function (err) {
        if (err.code === "unavailable") showListMessage("unavailable", "This server does not list rooms.");
        else showListMessage("error", "The room list is not available: " + err.message);
      });
    });
    socket.on("rooms", applyPush);
    socket.on("connect_error", showOffline);
    socket.on("disconnect", function () {
      state.signaling = "disconnected";
    });
  }

  var ADJ = ["quiet", "brave", "sunny", "lucky", "swift", "calm", "bright", "cosy", "merry", "keen"];
  var NOUN = ["otter", "falcon", "maple", "comet", "harbor", "meadow", "lynx", "willow", "pebble", "orbit"];
  function randomRoomName() {
    var buf = new Uint32Array(3);
    root.crypto.getRandomValues(buf);
    return ADJ[buf[0] % ADJ.length] + "-" + NOUN[buf[1] % NOUN.length] + "-" + (10 + buf[2] % 90);
  }

  // Read-only hook for tests.
  root.noom = {
    state: function () {
      return {
        page: "home",
        signaling: state.signaling,
        connected: !!(socket && socket.connected),
        rooms: state.rooms.map(function (r) { return { name: r.name, size: r.size }; }),
        total: state.total,
        v: state.v
      };
    },
    peers: function () { return Promise.resolve([]); }
  };
})(window);
