/*
 * Local camera and microphone: acquisition with fallbacks, device lists,
 * switching devices, mute and camera off. Exposes window.NoomMedia.
 */
(function (root) {
  "use strict";

  var VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };
  var AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

  function hasMediaDevices() {
    return !!(root.navigator && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  // LocalMedia owns the local MediaStream. onTrackChange(kind, newTrack,
  // oldTrack) is called after a device switch so the call can replace the
  // track on every RTCRtpSender.
  function LocalMedia(opts) {
    this.video = opts.video;
    this.cameraSelect = opts.cameraSelect;
    this.micSelect = opts.micSelect;
    this.statusEl = opts.statusEl;
    this.onTrackChange = opts.onTrackChange || function () {};
    this.onChange = opts.onChange || function () {};
    this.stream = new MediaStream();
    this.muted = false;
    this.cameraOff = false;
    this.error = "";
    var self = this;
    this.cameraSelect.addEventListener("change", function () {
      self.switchDevice("video", self.cameraSelect.value);
    });
    this.micSelect.addEventListener("change", function () {
      self.switchDevice("audio", self.micSelect.value);
    });
    if (hasMediaDevices() && navigator.mediaDevices.addEventListener) {
      navigator.mediaDevices.addEventListener("devicechange", function () { self.refreshDevices(); });
    }
  }

  LocalMedia.prototype.setStatus = function (text) {
    this.error = text;
    if (this.statusEl) this.statusEl.textContent = text;
  };

  // start asks for camera and microphone, then for either alone, so a
  // missing or denied device does not cost the other one. It always
  // resolves; without any device the user can still watch and chat.
  LocalMedia.prototype.start = function () {
    var self = this;
    if (!hasMediaDevices()) {
      this.setStatus("This browser can't use a camera or microphone here (a secure https:// page is needed).");
      this.refreshDevices();
      return Promise.resolve(this.stream);
    }
    var gum = function (c) { return navigator.mediaDevices.getUserMedia(c); };
    return gum({ audio: AUDIO, video: VIDEO })
      .catch(function (err) {
        return gum({ audio: AUDIO }).then(function (s) {
          self.setStatus("Camera unavailable (" + err.name + "). Joining with audio only.");
          return s;
        }, function () {
          return gum({ video: VIDEO }).then(function (s) {
            self.setStatus("Microphone unavailable (" + err.name + "). Joining with video only.");
            return s;
          });
        });
      })
      .then(function (s) {
        s.getTracks().forEach(function (t) { self.stream.addTrack(t); });
        self.attach();
      }, function (err) {
        self.setStatus("Camera and microphone unavailable (" + err.name + "). You can still watch and chat.");
      })
      .then(function () { return self.refreshDevices(); })
      .then(function () {
        self.onChange();
        return self.stream;
      });
  };

  LocalMedia.prototype.attach = function () {
    this.video.srcObject = this.stream;
    var p = this.video.play();
    if (p && p.catch) p.catch(function () {});
  };

  LocalMedia.prototype.track = function (kind) {
    var list = kind === "audio" ? this.stream.getAudioTracks() : this.stream.getVideoTracks();
    return list[0] || null;
  };

  LocalMedia.prototype.tracks = function () {
    return this.stream.getTracks();
  };

  LocalMedia.prototype.refreshDevices = function () {
    var self = this;
    if (!hasMediaDevices() || !navigator.mediaDevices.enumerateDevices) {
      fill(this.cameraSelect, [], null, "No camera");
      fill(this.micSelect, [], null, "No microphone");
      return Promise.resolve();
    }
    return navigator.mediaDevices.enumerateDevices().then(function (devices) {
      var cams = devices.filter(function (d) { return d.kind === "videoinput"; });
      var mics = devices.filter(function (d) { return d.kind === "audioinput"; });
      fill(self.cameraSelect, cams, currentDevice(self.track("video")), "No camera");
      fill(self.micSelect, mics, currentDevice(self.track("audio")), "No microphone");
    }, function () {});
  };

  function currentDevice(track) {
    if (!track || !track.getSettings) return null;
    return track.getSettings().deviceId || null;
  }

  function fill(select, devices, current, none) {
    var opts = devices.map(function (d, i) {
      var o = document.createElement("option");
      o.value = d.deviceId;
      o.textContent = d.label || (d.kind === "videoinput" ? "Camera " : "Microphone ") + (i + 1);
      if (d.deviceId === current) o.selected = true;
      return o;
    });
    if (opts.length === 0) {
      var o = document.createElement("option");
      o.value = "";
      o.textContent = none;
      opts.push(o);
    }
    select.replaceChildren.apply(select, opts);
    select.disabled = devices.length === 0;
  }

  // switchDevice swaps the camera or microphone in place; the call replaces
  // the track on each sender (no renegotiation). The old track is stopped
  // only after the new one is in place; a device that can't be opened twice
  // (NotReadableError) is released first and opened again.
  LocalMedia.prototype.switchDevice = function (kind, deviceId) {
    var self = this;
    if (!deviceId || !hasMediaDevices()) return Promise.resolve();
    var old = this.track(kind);
    if (old && currentDevice(old) === deviceId) return Promise.resolve();
    var c = {};
    c[kind] = Object.assign({}, kind === "video" ? VIDEO : AUDIO, { deviceId: { exact: deviceId } });
    var open = function () { return navigator.mediaDevices.getUserMedia(c); };
    return open().catch(function (err) {
      if (!old || err.name !== "NotReadableError") throw err;
      old.stop();
      return open();
    }).then(function (s) {
      var track = kind === "video" ? s.getVideoTracks()[0] : s.getAudioTracks()[0];
      track.enabled = kind === "video" ? !self.cameraOff : !self.muted;
      if (old) self.stream.removeTrack(old);
      self.stream.addTrack(track);
      self.attach();
      self.setStatus("");
      return Promise.resolve(self.onTrackChange(kind, track, old)).then(function () {
        if (old) old.stop();
        self.onChange();
        return self.refreshDevices();
      });
    }, function (err) {
      self.setStatus("Couldn't switch " + (kind === "video" ? "camera" : "microphone") + " (" + err.name + ").");
      return self.refreshDevices();
    });
  };

  LocalMedia.prototype.setMuted = function (muted) {
    this.muted = !!muted;
    this.stream.getAudioTracks().forEach(function (t) { t.enabled = !muted; });
    this.onChange();
  };

  LocalMedia.prototype.setCameraOff = function (off) {
    this.cameraOff = !!off;
    this.stream.getVideoTracks().forEach(function (t) { t.enabled = !off; });
    this.onChange();
  };

  LocalMedia.prototype.stop = function () {
    this.stream.getTracks().forEach(function (t) { t.stop(); });
  };

  root.NoomMedia = { LocalMedia: LocalMedia };
})(window);
