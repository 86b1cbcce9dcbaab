/*
 * Home page: nickname (saved in localStorage), live list of public rooms
 * (the hub's "rooms" ack and push), create or enter a room.
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

  var state = { signaling: "connecting", rooms: [] };

  nameInput.value = C.savedName();
  nameInput.addEventListener("input", function () {
    var v = nameInput.value.trim();
    if (!C.nameError(v)) C.saveName(v);
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

  function renderRooms(rooms) {
    state.rooms = Array.isArray(rooms) ? rooms.slice() : [];
    state.rooms.sort(function (a, b) {
      return (b.size - a.size) || String(a.name).localeCompare(String(b.name));
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
    if (items.length === 0) {
      empty.hidden = false;
      empty.dataset.state = "empty";
      empty.textContent = "No public rooms right now. Start one!";
    } else {
      empty.hidden = true;
    }
  }

  function showOffline() {
    state.signaling = "offline";
    list.replaceChildren();
    list.setAttribute("aria-busy", "false");
    empty.hidden = false;
    empty.dataset.state = "offline";
    empty.textContent = "Offline: the room list will appear when the server is reachable.";
  }

  var socket = C.connect(cfg);
  if (!socket) {
    showOffline();
  } else {
    socket.on("connect", function () {
      state.signaling = "connected";
      C.request(socket, "rooms", {}).then(function (ack) {
        renderRooms(ack.rooms);
      }, function () {
        /* the push will bring the list */
      });
    });
    socket.on("rooms", function (msg) {
      renderRooms(msg && msg.rooms);
    });
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
        rooms: state.rooms.map(function (r) { return { name: r.name, size: r.size }; })
      };
    },
    peers: function () { return Promise.resolve([]); }
  };
})(window);
