package browsertest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Call is the two-person call scenario, run against a Noom serving the web
// app, the hub and STUN/TURN at base (http://host:port): a home page watches
// the room list while Alice and Bob join the same room through the real UI;
// the call connects (through TURN only, when relay is set, with
// iceTransportPolicy "relay"), remote video plays and keeps decoding on both
// sides, Alice switches camera mid-call and restarts ICE, chat arrives,
// leaving updates the other page and the room list, and Bob rejoins. Any
// uncaught exception or console error on a page fails the test. It saves a
// screenshot of Alice's page as an artifact.
func Call(t *testing.T, base string, relay bool) {
	t.Helper()
	query := "&debug=1"
	if relay {
		query += "&relay=1"
	}
	room := fmt.Sprintf("e2e %d", time.Now().UnixNano()) // fresh room every run
	roomSel := `[data-testid="room-item"][data-room=` + jsString(room) + `]`

	home := Start(t, Options{}).NewPage()
	must(t, home.Navigate(base+"/"))
	must(t, home.WaitFor(`window.noom.state().connected`, 10*time.Second))

	// fake_device_2 is a Y16 depth camera that WebRTC cannot encode; switch to
	// fake_device_2 (MJPEG).
	twoCameras := Options{Flags: map[string]any{"use-fake-device-for-media-stream": "device-count=3"}}
	pages := []*Page{
		Start(t, twoCameras).NewPage(),
		Start(t, Options{}).NewPage(),
	}
	alice, bob := pages[0], pages[1]
	for i, p := range pages {
		name := []string{"Alice", "Bob"}[i]
		must(t, p.Navigate(base+"/room/"+url.PathEscape(room)+"?name="+name+query))
		must(t, p.WaitFor(`window.noom.state().signaling === "connected" && window.noom.state().local.video`, 10*time.Second))
		must(t, p.Click(`[data-testid="join-button"]`))
		must(t, p.WaitFor(`window.noom.state().joined`, 10*time.Second))
	}
	must(t, home.WaitFor(`document.querySelector(`+jsString(roomSel)+`)?.dataset.size === "2"`, 10*time.Second))

	connected := `window.noom.peers().then(ps => ps.length === 1 && ps[0].connectionState === "connected" && ps[0].framesDecoded > 10)`
	for _, p := range pages {
		if err := p.WaitFor(connected, 30*time.Second); err != nil {
			var st json.RawMessage
			_ = p.Eval(`window.noom.peers()`, &st)
			t.Fatalf("%v\npeers: %s\n%s", err, st, strings.Join(p.Messages(), "\n"))
		}
		var peers []struct {
			CandidateType string
			Name          string
		}
		must(t, p.Eval(`window.noom.peers()`, &peers))
		if relay && peers[0].CandidateType != "relay" {
			t.Errorf("candidate type %q with ?relay=1", peers[0].CandidateType)
		}
		must(t, p.WaitFor(`document.querySelectorAll('[data-testid="remote-video"]').length === 1 && document.querySelector('[data-testid="remote-video"]').videoWidth > 0`, 10*time.Second))
	}

	// Switch Alice's camera mid-call: replaceTrack, no renegotiation; Bob
	// keeps decoding.
	var before int
	must(t, bob.Eval(`window.noom.peers().then(ps => ps[0].framesDecoded)`, &before))
	must(t, alice.Eval(`(() => {
		const sel = document.querySelector('[data-testid="camera-select"]');
		sel.value = [...sel.options].find(o => o.textContent === "fake_device_2").value;
		sel.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`, nil))
	must(t, alice.WaitFor(`window.noom.state().local.videoLabel === "fake_device_2"`, 10*time.Second))
	if err := bob.WaitFor(fmt.Sprintf(`window.noom.peers().then(ps => ps[0].connectionState === "connected" && ps[0].framesDecoded > %d + 20)`, before), 15*time.Second); err != nil {
		var a, b json.RawMessage
		_ = alice.Eval(`window.noom.peers()`, &a)
		_ = bob.Eval(`window.noom.peers()`, &b)
		t.Fatalf("%v\nalice: %s\nbob: %s", err, a, b)
	}

	// An ICE restart (what a failed connection triggers) fetches fresh
	// iceServers and renegotiates; media keeps flowing.
	must(t, alice.Eval(`(async () => { for (const [, e] of window.noom.debug.peers()) await e.peer.restartIce(); return true; })()`, nil))
	must(t, alice.WaitFor(`window.noom.debug.peers().values().next().value.peer.restarts === 1`, 5*time.Second))
	must(t, bob.Eval(`window.noom.peers().then(ps => ps[0].framesDecoded)`, &before))
	must(t, bob.WaitFor(fmt.Sprintf(`window.noom.peers().then(ps => ps[0].connectionState === "connected" && ps[0].framesDecoded > %d + 20)`, before), 15*time.Second))
	if !containsLine(alice.Messages(), `-> ice-servers`) {
		t.Errorf("ICE restart did not refresh iceServers")
	}

	must(t, alice.SetValue(`[data-testid="chat-input"]`, "hello bob"))
	must(t, alice.Click(`[data-testid="chat-send"]`))
	must(t, bob.WaitFor(`[...document.querySelectorAll('[data-testid="chat-text"]')].some(e => e.textContent === "hello bob")`, 10*time.Second))
	must(t, alice.Screenshot(ArtifactPath(t, "call-alice.png")))

	must(t, bob.Click(`[data-testid="leave-button"]`))
	must(t, alice.WaitFor(`window.noom.state().peers.length === 0 && !document.querySelector('[data-testid="tile"]:not([data-local])')`, 10*time.Second))
	must(t, home.WaitFor(`document.querySelector(`+jsString(roomSel)+`)?.dataset.size === "1"`, 10*time.Second))

	must(t, bob.Click(`[data-testid="join-button"]`))
	must(t, alice.WaitFor(connected, 30*time.Second))
	FailOnPageErrors(t, home, alice, bob)
}

// FailOnPageErrors fails the test for every uncaught exception and console
// or log error the pages reported.
func FailOnPageErrors(t *testing.T, pages ...*Page) {
	t.Helper()
	for i, p := range pages {
		if errs := p.Errors(); len(errs) > 0 {
			t.Errorf("page %d: errors: %q", i, errs)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func containsLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}
