package web_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/web"
	"github.com/noomrtc/noom/web/browsertest"
)

// cspErrors returns the page messages that report a Content-Security-Policy
// violation or an uncaught exception.
func cspErrors(p *browsertest.Page) []string {
	var out []string
	for _, m := range p.Messages() {
		if strings.Contains(m, "Content Security Policy") || strings.HasPrefix(m, "exception:") {
			out = append(out, m)
		}
	}
	return out
}

// TestBrowserHomeWithoutHub loads the pages in Chromium with no signaling
// server behind /socket.io/: they must render, load our client, and show
// "offline" instead of breaking.
func TestBrowserHomeWithoutHub(t *testing.T) {
	h := newHandler(t, web.Config{})
	srv := httptest.NewServer(h)
	defer srv.Close()

	b := browsertest.Start(t, browsertest.Options{})
	p := b.NewPage()
	if err := p.Navigate(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}

	var kinds struct {
		IO, Connect, Manager string
		Protocol             int
	}
	if err := p.Eval(`({IO: typeof io, Connect: typeof io.connect, Manager: typeof io.Manager, Protocol: io.protocol})`, &kinds); err != nil {
		t.Fatal(err)
	}
	if kinds.IO != "function" || kinds.Connect != "function" || kinds.Manager != "function" || kinds.Protocol != 5 {
		t.Fatalf("socket.io.js globals: %+v", kinds)
	}

	// Engine.IO tries WebSocket, falls back to polling, both get 404:
	// the status pill and the room list say offline.
	if err := p.WaitFor(`document.querySelector('[data-testid="connection-status"]').dataset.state === "offline"`, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := p.Eval(`document.querySelector('[data-testid="connection-status"]').textContent`, &text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "offline") {
		t.Errorf("status text = %q", text)
	}
	if err := p.WaitFor(`document.querySelector('[data-testid="rooms-empty"]').dataset.state === "offline"`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Page      string
		Signaling string
		Connected bool
	}
	if err := p.Eval(`window.noom.state()`, &st); err != nil {
		t.Fatal(err)
	}
	if st.Page != "home" || st.Connected {
		t.Errorf("noom.state() = %+v", st)
	}

	// The nickname survives a reload (localStorage).
	if err := p.SetValue(`[data-testid="name-input"]`, "Ada"); err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.querySelector('[data-testid="name-input"]').value === "Ada"`, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// Client-side validation, then navigation to the room.
	if err := p.SetValue(`[data-testid="room-input"]`, strings.Repeat("x", 65)); err != nil {
		t.Fatal(err)
	}
	if err := p.Click(`[data-testid="join-button"]`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.querySelector('[data-testid="join-error"]').textContent.length > 0`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	desktop := browsertest.ArtifactPath(t, "home-desktop.png")
	if err := p.Screenshot(desktop); err != nil {
		t.Fatal(err)
	}
	if err := p.SetValue(`[data-testid="room-input"]`, "Daily standup"); err != nil {
		t.Fatal(err)
	}
	if err := p.Click(`[data-testid="join-button"]`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`location.pathname === "/room/Daily%20standup" && document.readyState === "complete" && !!window.noom`, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	// Room page: lobby with the saved name, the fake camera in the local
	// tile, device lists filled, offline status.
	if err := p.WaitFor(`window.noom.state().local.video && window.noom.state().local.audio`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.querySelector('[data-testid="local-video"]').videoWidth > 0`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var room struct {
		Page, Room, Phase string
		Name              string
		Relay             bool
	}
	if err := p.Eval(`window.noom.state()`, &room); err != nil {
		t.Fatal(err)
	}
	if room.Page != "room" || room.Room != "Daily standup" || room.Phase != "lobby" || room.Relay {
		t.Errorf("room state = %+v", room)
	}
	var lobbyName string
	if err := p.Eval(`document.querySelector('[data-testid="name-input"]').value`, &lobbyName); err != nil || lobbyName != "Ada" {
		t.Errorf("lobby name = %q, %v", lobbyName, err)
	}
	if err := p.WaitFor(`document.querySelector('[data-testid="camera-select"]').options.length > 0 && !document.querySelector('[data-testid="camera-select"]').disabled`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// Mute toggles the button state.
	if err := p.Click(`[data-testid="mute-button"]`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.querySelector('[data-testid="mute-button"]').getAttribute("aria-pressed") === "true" && window.noom.state().local.muted`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.querySelector('[data-testid="connection-status"]').dataset.state === "offline"`, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	// Joining while offline tells the user instead of hanging silently.
	if err := p.Click(`[data-testid="join-button"]`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.querySelector('[data-testid="status"]').textContent.length > 0`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Screenshot(browsertest.ArtifactPath(t, "room-desktop.png")); err != nil {
		t.Fatal(err)
	}
	if err := p.SetViewport(390, 844, true); err != nil {
		t.Fatal(err)
	}
	if err := p.Screenshot(browsertest.ArtifactPath(t, "room-phone.png")); err != nil {
		t.Fatal(err)
	}

	// ?relay=1 is honoured.
	if err := p.Navigate(srv.URL + "/room/x?relay=1"); err != nil {
		t.Fatal(err)
	}
	var relay bool
	if err := p.Eval(`window.noom.state().relay`, &relay); err != nil || !relay {
		t.Errorf("relay = %v, %v", relay, err)
	}

	if errs := cspErrors(p); len(errs) > 0 {
		t.Errorf("CSP violations or exceptions: %q", errs)
	}
	t.Logf("screenshots: %s", desktop)
}

// TestBrowserSwitchCamera switches between Chromium's fake cameras in the
// lobby: the preview follows and the device list keeps the choice.
// (fake_device_2 is a Y16 depth camera that WebRTC cannot encode, so tests
// switch to fake_device_2.)
func TestBrowserSwitchCamera(t *testing.T) {
	h := newHandler(t, web.Config{})
	srv := httptest.NewServer(h)
	defer srv.Close()

	b := browsertest.Start(t, browsertest.Options{Flags: map[string]any{
		"use-fake-device-for-media-stream": "device-count=3",
	}})
	p := b.NewPage()
	if err := p.Navigate(srv.URL + "/room/devices"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`window.noom.state().local.videoLabel === "fake_device_0" && document.querySelector('[data-testid="camera-select"]').options.length === 3`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(`(() => {
		const sel = document.querySelector('[data-testid="camera-select"]');
		sel.value = [...sel.options].find(o => o.textContent === "fake_device_2").value;
		sel.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`window.noom.state().local.videoLabel === "fake_device_2"`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`(() => { const s = document.querySelector('[data-testid="camera-select"]'); return s.options[s.selectedIndex].textContent === "fake_device_2"; })()`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	var tracks int
	if err := p.Eval(`document.querySelector('[data-testid="local-video"]').srcObject.getVideoTracks().length`, &tracks); err != nil || tracks != 1 {
		t.Fatalf("preview has %d video tracks, %v", tracks, err)
	}
	// Camera off keeps the track but disables it.
	if err := p.Click(`[data-testid="camera-button"]`); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`window.noom.state().local.cameraOff && document.querySelector('[data-testid="tile"][data-local="true"]').dataset.video === "false"`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if errs := cspErrors(p); len(errs) > 0 {
		t.Errorf("CSP violations or exceptions: %q", errs)
	}
}
