/*
 * One RTCPeerConnection to one remote participant.
 *
 * The first negotiation has one offerer: the newcomer (initiator), which adds
 * its tracks at once. The other side adds its tracks only after it applied
 * that first offer, so its tracks ride on the offered transceivers and it
 * never offers at the same time. (Glare on the very first offer loses ICE
 * candidates in Chrome after the rollback, which leaves the pair at "new".)
 * Every later negotiation (ICE restart, a device added mid-call) uses the
 * "perfect negotiation" pattern: on glare the polite side (the one whose id
 * sorts lower) rolls back and answers, the impolite side ignores the
 * colliding offer. ICE restarts on failure, with fresh iceServers.
 * Exposes window.NoomPeer.
 *
 * Signal payloads (the data of the "signal" event):
 *   {type: "offer"|"answer", sdp}
 *   {type: "candidate", candidate: {candidate, sdpMid, sdpMLineIndex, usernameFragment}}
 */
(function (root) {
  "use strict";

  var MAX_RESTARTS = 6;

  // opts: id, name, polite, initiator, rtcConfig, stream (local MediaStream),
  // send(data) -> Promise, iceServers() -> Promise<RTCIceServer[]>,
  // onTrack(MediaStream), onState(state), log(msg)
  function Peer(opts) {
    var self = this;
    this.id = opts.id;
    this.name = opts.name || "";
    this.polite = !!opts.polite;
    this.rtcConfig = opts.rtcConfig;
    this.sendSignal = opts.send;
    this.fetchIceServers = opts.iceServers;
    this.onTrack = opts.onTrack || function () {};
    this.onState = opts.onState || function () {};
    this.log = opts.log || function () {};
    this.debug = !!opts.debug;

    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    this.queue = Promise.resolve();
    this.closed = false;
    this.restarts = 0;
    this.restartTimer = null;
    this.restarting = false;
    this.remoteStream = new MediaStream();
    this.lastStats = null;

    var pc = new RTCPeerConnection(opts.rtcConfig);
    this.pc = pc;

    pc.onnegotiationneeded = function () { self.negotiate(); };
    pc.onicecandidate = function (ev) {
      if (!ev.candidate || !ev.candidate.candidate) return;
      self.send({ type: "candidate", candidate: ev.candidate.toJSON() });
    };
    pc.ontrack = function (ev) {
      var stream = self.remoteStream;
      if (stream.getTracks().indexOf(ev.track) < 0) {
        stream.getTracks().forEach(function (t) {
          if (t.kind === ev.track.kind && t.readyState === "ended") stream.removeTrack(t);
        });
        stream.addTrack(ev.track);
      }
      ev.track.addEventListener("ended", function () { stream.removeTrack(ev.track); });
      self.onTrack(stream);
    };
    pc.onconnectionstatechange = function () { self.stateChanged(); };
    pc.oniceconnectionstatechange = function () {
      // Browsers without connectionState still report ICE state.
      if (pc.connectionState === undefined) self.stateChanged();
    };

    this.pendingStream = null;
    if (opts.initiator) {
      this.addLocal(opts.stream);
    } else {
      this.pendingStream = opts.stream || new MediaStream();
    }
  }

  // addLocal adds the local tracks; a kind without a local track still gets a
  // receive-only transceiver so the other side can send it.
  Peer.prototype.addLocal = function (stream) {
    var pc = this.pc;
    var kinds = { audio: false, video: false };
    if (stream) {
      stream.getTracks().forEach(function (t) {
        pc.addTrack(t, stream);
        kinds[t.kind] = true;
      });
    }
    if (!this.pendingStream) {
      Object.keys(kinds).forEach(function (k) {
        if (!kinds[k]) pc.addTransceiver(k, { direction: "recvonly" });
      });
    }
  };

  Peer.prototype.trace = function (what) {
    if (!this.debug) return;
    var pc = this.pc;
    this.log(what + " peer=" + this.id + " polite=" + this.polite + " signaling=" + pc.signalingState +
      " ice=" + pc.iceConnectionState + " conn=" + pc.connectionState + " makingOffer=" + this.makingOffer);
  };

  Peer.prototype.state = function () {
    var pc = this.pc;
    if (this.closed) return "closed";
    return pc.connectionState || pc.iceConnectionState || "new";
  };

  Peer.prototype.send = function (data) {
    if (this.closed) return;
    var self = this;
    this.trace("send " + data.type);
    Promise.resolve(this.sendSignal(data)).catch(function (err) {
      self.log("signal to " + self.id + " failed: " + (err && err.message));
    });
  };

  Peer.prototype.negotiate = function () {
    var self = this;
    if (this.closed) return;
    this.makingOffer = true;
    this.pc.setLocalDescription().then(function () {
      var d = self.pc.localDescription;
      self.send({ type: d.type, sdp: d.sdp });
    }).catch(function (err) {
      self.log("offer to " + self.id + " failed: " + err);
    }).then(function () {
      self.makingOffer = false;
    });
  };

  // handleSignal applies one message from the remote side. Messages are
  // processed strictly in order.
  Peer.prototype.handleSignal = function (data) {
    var self = this;
    this.queue = this.queue.then(function () {
      return self.apply(data);
    }).catch(function (err) {
      self.log("signal from " + self.id + " failed: " + err);
    });
    return this.queue;
  };

  Peer.prototype.apply = function (data) {
    var self = this;
    var pc = this.pc;
    if (this.closed || !data || typeof data.type !== "string") return Promise.resolve();
    this.trace("recv " + data.type);
    if (data.type === "offer" || data.type === "answer") {
      var readyForOffer = !this.makingOffer &&
        (pc.signalingState === "stable" || this.settingRemoteAnswer);
      var collision = data.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) {
        this.trace("ignored colliding offer");
        return Promise.resolve();
      }
      this.settingRemoteAnswer = data.type === "answer";
      return pc.setRemoteDescription({ type: data.type, sdp: data.sdp }).then(function () {
        self.settingRemoteAnswer = false;
        if (data.type !== "offer") return null;
        if (self.pendingStream) {
          // First offer applied: our tracks reuse its transceivers.
          var stream = self.pendingStream;
          self.pendingStream = null;
          stream.getTracks().forEach(function (t) { pc.addTrack(t, stream); });
        }
        return pc.setLocalDescription().then(function () {
          var d = pc.localDescription;
          self.send({ type: d.type, sdp: d.sdp });
        });
      }, function (err) {
        self.settingRemoteAnswer = false;
        throw err;
      });
    }
    if (data.type === "candidate" && data.candidate) {
      return pc.addIceCandidate(data.candidate).catch(function (err) {
        if (!self.ignoreOffer) throw err;
      });
    }
    return Promise.resolve();
  };

  // replaceTrack puts a new local track on the matching sender without
  // renegotiating, or adds it (which renegotiates) when there was none.
  Peer.prototype.replaceTrack = function (kind, track, stream) {
    // Before the first offer the tracks are taken from the stream later.
    if (this.closed || this.pendingStream) return Promise.resolve();
    var sender = this.pc.getSenders().filter(function (s) {
      return s.track ? s.track.kind === kind : false;
    })[0];
    if (!sender) {
      sender = this.pc.getTransceivers().filter(function (t) {
        return !t.stopped && t.receiver.track && t.receiver.track.kind === kind &&
          !t.sender.track && (t.direction === "sendrecv" || t.direction === "sendonly");
      }).map(function (t) { return t.sender; })[0];
    }
    if (sender) return sender.replaceTrack(track);
    this.pc.addTrack(track, stream);
    return Promise.resolve();
  };

  Peer.prototype.stateChanged = function () {
    var s = this.state();
    var self = this;
    if (s === "connected") {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
      this.restarts = 0;
      this.restarting = false;
    } else if (s === "failed") {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
      // The impolite side restarts at once; the polite side waits a little
      // so that both rarely restart together (glare is safe anyway).
      this.scheduleRestart(this.polite ? 2500 : 0);
    } else if (s === "disconnected") {
      // Often transient: give ICE a few seconds to recover by itself.
      this.scheduleRestart(this.polite ? 7000 : 4000);
    }
    this.onState(s);
    if (s === "failed" && this.restarts >= MAX_RESTARTS) self.log("giving up on " + this.id);
  };

  Peer.prototype.scheduleRestart = function (delay) {
    var self = this;
    if (this.closed || this.restartTimer || this.restarts >= MAX_RESTARTS) return;
    this.restartTimer = setTimeout(function () {
      self.restartTimer = null;
      var s = self.state();
      if (s === "failed" || s === "disconnected") self.restartIce();
    }, delay);
  };

  // restartIce refreshes the TURN credentials, then restarts ICE. If the
  // connection is not back within 15 s, it tries again (up to MAX_RESTARTS).
  Peer.prototype.restartIce = function () {
    var self = this;
    if (this.closed || this.restarting) return Promise.resolve();
    this.restarting = true;
    this.restarts++;
    this.log("ICE restart " + this.restarts + " with " + this.id);
    if (this.state() !== "connected") this.onState("restarting");
    return Promise.resolve(this.fetchIceServers ? this.fetchIceServers() : null).catch(function () {
      return null;
    }).then(function (servers) {
      if (self.closed) return;
      if (servers) {
        self.rtcConfig = Object.assign({}, self.rtcConfig, { iceServers: servers });
        try {
          self.pc.setConfiguration(self.rtcConfig);
        } catch (err) {
          self.log("setConfiguration: " + err);
        }
      }
      if (typeof self.pc.restartIce === "function") {
        self.pc.restartIce();
      } else {
        self.makingOffer = true;
        return self.pc.createOffer({ iceRestart: true }).then(function (offer) {
          return self.pc.setLocalDescription(offer);
        }).then(function () {
          var d = self.pc.localDescription;
          self.send({ type: d.type, sdp: d.sdp });
        }).then(function () { self.makingOffer = false; }, function () { self.makingOffer = false; });
      }
    }).then(function () {
      setTimeout(function () {
        self.restarting = false;
        var s = self.state();
        if (s !== "connected" && s !== "closed") self.scheduleRestart(0);
      }, 15000);
    });
  };

  // stats summarises getStats(): the selected candidate pair and the video
  // frames decoded so far.
  Peer.prototype.stats = function () {
    var self = this;
    var pc = this.pc;
    var base = {
      peer: this.id,
      state: this.state(),
      iceConnectionState: pc.iceConnectionState,
      signalingState: pc.signalingState,
      candidateType: "",
      protocol: "",
      rttMs: 0,
      bytesSent: 0,
      bytesReceived: 0,
      framesDecoded: 0
    };
    if (this.closed) return Promise.resolve(base);
    return pc.getStats().then(function (report) {
      var pair = null;
      report.forEach(function (s) {
        if (s.type === "transport" && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId) || pair;
      });
      if (!pair) {
        report.forEach(function (s) {
          if (s.type === "candidate-pair" && (s.selected || (s.nominated && s.state === "succeeded"))) pair = pair || s;
        });
      }
      report.forEach(function (s) {
        if (s.type === "inbound-rtp" && (s.kind === "video" || s.mediaType === "video")) {
          base.framesDecoded += s.framesDecoded || 0;
        }
      });
      if (pair) {
        var local = report.get(pair.localCandidateId);
        if (local) {
          base.candidateType = local.candidateType || "";
          base.protocol = (local.candidateType === "relay" && local.relayProtocol) || local.protocol || "";
        }
        if (typeof pair.currentRoundTripTime === "number") base.rttMs = Math.round(pair.currentRoundTripTime * 1000);
        base.bytesSent = pair.bytesSent || 0;
        base.bytesReceived = pair.bytesReceived || 0;
      }
      self.lastStats = base;
      return base;
    }, function () { return base; });
  };

  Peer.prototype.close = function () {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    try {
      this.pc.close();
    } catch (e) { /* already closed */ }
    this.remoteStream.getTracks().forEach(function (t) { t.stop(); });
  };

  root.NoomPeer = Peer;
})(window);
