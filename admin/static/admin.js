// Noom admin console: live updates for server-rendered pages. Our own
// code, no libraries. Writes text with textContent only, never innerHTML.
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var live = document.querySelector('[data-testid="live-status"]');

  function setLive(state, text) {
    if (!live) return;
    live.dataset.state = state;
    var t = live.querySelector(".conn__text");
    if (t) t.textContent = text;
  }

  // --- formatting, as the server does it ---
  function int(n) {
    return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function rate(v) { return v < 100 ? v.toFixed(1) : int(v); }
  function bytes(v) {
    var units = ["B", "kB", "MB", "GB"];
    for (var i = 0; i < units.length; i++) {
      if (v < 1000 || i === units.length - 1) return i === 0 ? v.toFixed(0) + " B" : v.toFixed(1) + " " + units[i];
      v /= 1000;
    }
  }
  function duration(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
  }
  function pad(n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; }
  function clock(d) {
    return pad(d.getHours(), 2) + ":" + pad(d.getMinutes(), 2) + ":" + pad(d.getSeconds(), 2) + "." + pad(d.getMilliseconds(), 3);
  }
  function chartValue(unit, v) {
    if (unit === "B/s") return bytes(v) + "/s";
    if (unit === "/s") return rate(v) + "/s";
    return int(v);
  }

  // --- confirmation of actions ---
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.dataset || form.dataset.confirm === undefined) return;
    if (!window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      return;
    }
    var c = form.querySelector('input[name="confirmed"]');
    if (c) c.value = "1";
  });

  // --- relative times ---
  function refreshTimes() {
    var now = Date.now();
    document.querySelectorAll("time[data-ago]").forEach(function (t) {
      var at = Date.parse(t.getAttribute("datetime"));
      if (!isNaN(at) && at > 0) t.textContent = duration((now - at) / 1000) + " ago";
    });
  }
  setInterval(refreshTimes, 5000);

  // --- overview ---
  var page = document.body.dataset.page;
  function updateOverview(o) {
    var values = {
      sockets: int(o.sockets), websocket: int(o.websocket), polling: int(o.polling), publicRooms: int(o.publicRooms),
      eventsInPerSecond: rate(o.eventsInPerSecond), eventsOutPerSecond: rate(o.eventsOutPerSecond),
      bytesInPerSecond: bytes(o.bytesInPerSecond) + "/s", bytesOutPerSecond: bytes(o.bytesOutPerSecond) + "/s",
      slowConsumerDisconnects: int(o.slowConsumerDisconnects), turnAllocations: int(o.turnAllocations),
      turnRelayBytesPerSecond: bytes(o.turnRelayBytesPerSecond) + "/s",
      callConnectedShare: Math.round(o.callConnectedShare * 100) + " %", callRelayShare: Math.round(o.callRelayShare * 100) + " %",
      callRtt: Math.round(o.callRttP50Ms) + " ms / " + Math.round(o.callRttP95Ms) + " ms",
      uptime: duration(o.uptimeSeconds), streamViewers: int(o.streamViewers)
    };
    Object.keys(values).forEach(function (k) {
      document.querySelectorAll('[data-stat="' + k + '"]').forEach(function (el) { el.textContent = values[k]; });
    });
    (o.charts || []).forEach(drawChart);
  }
  function drawChart(c) {
    var fig = document.querySelector('[data-chart="' + c.id + '"]');
    if (!fig) return;
    var top = 1;
    c.series.forEach(function (s) { s.points.forEach(function (p) { if (p > top) top = p; }); });
    c.series.forEach(function (s, i) {
      var line = fig.querySelector('polyline[data-series="' + i + '"]');
      var n = s.points.length, step = 300 / Math.max(n - 1, 1), pts = [];
      for (var j = 0; j < n; j++) pts.push((j * step).toFixed(1) + "," + (80 - (s.points[j] / top) * 80).toFixed(1));
      if (line) line.setAttribute("points", pts.join(" "));
      var last = fig.querySelector('[data-last="' + i + '"]');
      if (last) last.textContent = chartValue(c.unit, n ? s.points[n - 1] : 0);
    });
    var t = fig.querySelector("[data-top]");
    if (t) t.textContent = "max " + chartValue(c.unit, top);
  }
  if (page === "overview") {
    var poll = function () {
      fetch("/admin/api/v1/stats", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (r.status === 401) { window.location.reload(); throw new Error("logged out"); }
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        .then(function (o) { updateOverview(o); setLive("online", "live"); })
        .catch(function () { setLive("offline", "offline"); });
    };
    setInterval(poll, 2000);
    poll();
  }

  // --- message flow ---
  var MAX_ROWS = 1000;
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    if (text instanceof Node) td.appendChild(text); else td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function code(text) {
    var c = document.createElement("code");
    c.textContent = text;
    return c;
  }
  function nsSegment(nsp) { return nsp === "/" ? "_" : encodeURIComponent(nsp.replace(/^\//, "")); }
  function what(e) {
    switch (e.kind) {
      case "join": case "leave": return (e.rooms || []).join(", ");
      case "connect": return (e.transport || "") + " " + (e.address || "");
      case "disconnect": return e.reason || "";
    }
    var name = e.event || (e.kind === "out" ? "(ack)" : "");
    return e.rooms && e.rooms.length ? name + " → " + e.rooms.join(", ") : name;
  }
  function row(e, payloads) {
    var tr = document.createElement("tr");
    tr.dataset.testid = "flow-row";
    tr.setAttribute("data-testid", "flow-row");
    tr.dataset.kind = e.kind;
    tr.dataset.seq = String(e.seq);
    var t = document.createElement("time");
    t.setAttribute("datetime", e.time);
    t.textContent = clock(new Date(e.time));
    cell(tr, t, "num");
    var k = document.createElement("span");
    k.className = "kind kind--" + e.kind.replace(/[^a-z]/g, "");
    k.textContent = e.kind;
    cell(tr, k);
    cell(tr, code(e.nsp));
    if (e.sid) {
      var a = document.createElement("a");
      a.href = "/admin/sockets/" + nsSegment(e.nsp) + "/" + encodeURIComponent(e.sid);
      a.appendChild(code(e.sid));
      cell(tr, a);
    } else cell(tr, "");
    cell(tr, what(e), "name").setAttribute("data-testid", "flow-what");
    cell(tr, e.recipients ? int(e.recipients) : "", "num");
    cell(tr, e.bytes ? bytes(e.bytes) : "", "num");
    if (payloads) cell(tr, code(e.payload || ""), "name");
    return tr;
  }
  document.querySelectorAll(".flow[data-stream]").forEach(function (box) {
    var body = box.querySelector("[data-flow-body]");
    var status = box.querySelector("[data-flow-status]");
    var skippedEl = box.querySelector("[data-skipped]");
    var pauseBtn = box.querySelector("[data-pause]");
    var payloads = box.dataset.payloads === "true";
    var paused = false, held = [], heldDropped = 0, skipped = 0;
    var lastSeq = 0;
    body.querySelectorAll("tr[data-seq]").forEach(function (tr) { lastSeq = Math.max(lastSeq, Number(tr.dataset.seq)); });
    function showSkipped() {
      var n = skipped + heldDropped;
      skippedEl.hidden = n === 0;
      skippedEl.textContent = int(n) + " events not shown";
    }
    function add(e) {
      body.insertBefore(row(e, payloads), body.firstChild);
      while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
    }
    pauseBtn.addEventListener("click", function () {
      paused = !paused;
      pauseBtn.setAttribute("aria-pressed", String(paused));
      pauseBtn.textContent = paused ? "Resume" : "Pause";
      status.textContent = paused ? "paused" : "live";
      if (!paused) { held.forEach(add); held = []; }
    });
    var url = box.dataset.stream + (box.dataset.stream.indexOf("?") < 0 ? "?" : "&") + "since=" + lastSeq;
    var es = new EventSource(url);
    es.onopen = function () { status.textContent = paused ? "paused" : "live"; setLive("online", "live"); };
    es.onerror = function () { status.textContent = "reconnecting…"; setLive("offline", "offline"); };
    es.onmessage = function (m) {
      var e;
      try { e = JSON.parse(m.data); } catch (err) { return; }
      if (paused) {
        held.push(e);
        if (held.length > MAX_ROWS) { held.shift(); heldDropped++; showSkipped(); }
        return;
      }
      add(e);
    };
    es.addEventListener("skipped", function (m) {
      try { skipped += JSON.parse(m.data).skipped; } catch (err) { return; }
      showSkipped();
    });
  });
})();
