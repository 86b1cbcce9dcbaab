package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/internal/redistest"
	"github.com/noomrtc/noom/web/browsertest"
)

// TestBrowserCallAcrossNodes: Alice's page talks to one noom, Bob's to
// another, both on one Redis; through the real UI they join one room and
// the call connects (video decoding both ways), chat crosses, and a home
// page on the second node lists the room with both. TURN is off: the
// pages reach each other on loopback host candidates, and only signaling
// crosses the nodes.
func TestBrowserCallAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("drives three browsers")
	}
	browsertest.RequireChromium(t)
	r := redistest.Start(t)
	n1 := startNoom(t, "--redis-url", "redis://"+r.Addr()+"/0", "--turn=false")
	n2 := startNoom(t, "--redis-url", "redis://"+r.Addr()+"/0", "--turn=false")
	room := fmt.Sprintf("cluster %d", time.Now().UnixNano())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	home := browsertest.Start(t, browsertest.Options{}).NewPage()
	must(home.Navigate("http://" + n2.HTTP + "/"))
	must(home.WaitFor(`window.noom.state().connected`, 10*time.Second))
	alice := browsertest.Start(t, browsertest.Options{}).NewPage()
	bob := browsertest.Start(t, browsertest.Options{}).NewPage()
	for _, p := range []struct {
		page       *browsertest.Page
		base, name string
	}{{alice, n1.HTTP, "Alice"}, {bob, n2.HTTP, "Bob"}} {
		must(p.page.Navigate("http://" + p.base + "/room/" + url.PathEscape(room) + "?debug=1&name=" + p.name))
		must(p.page.WaitFor(`window.noom.state().signaling === "connected" && window.noom.state().local.video`, 10*time.Second))
		must(p.page.Click(`[data-testid="join-button"]`))
		must(p.page.WaitFor(`window.noom.state().joined`, 10*time.Second))
	}
	roomJS, _ := json.Marshal(room)
	must(home.WaitFor(`document.querySelector('[data-testid="room-item"][data-room=`+string(roomJS)+`]')?.dataset.size === "2"`, 10*time.Second))

	connected := `window.noom.peers().then(ps => ps.length === 1 && ps[0].connectionState === "connected" && ps[0].framesDecoded > 10)`
	for _, p := range []*browsertest.Page{alice, bob} {
		if err := p.WaitFor(connected, 30*time.Second); err != nil {
			var st json.RawMessage
			_ = p.Eval(`window.noom.peers()`, &st)
			t.Fatalf("%v\npeers: %s\n%s", err, st, strings.Join(p.Messages(), "\n"))
		}
	}
	must(alice.SetValue(`[data-testid="chat-input"]`, "hello from node 1"))
	must(alice.Click(`[data-testid="chat-send"]`))
	must(bob.WaitFor(`[...document.querySelectorAll('[data-testid="chat-text"]')].some(e => e.textContent === "hello from node 1")`, 10*time.Second))
	browsertest.FailOnPageErrors(t, home, alice, bob)
}
