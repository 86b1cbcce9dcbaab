package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/call"
	"github.com/noomrtc/noom/web"
	"github.com/noomrtc/noom/web/browsertest"
	"github.com/prometheus/client_golang/prometheus"
)

// startApp serves the web app with a real hub and call protocol behind it
// (no TURN: these tests stop at the lobby and the room list).
func startApp(t *testing.T, cc call.Config, wc web.Config) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	hub, err := signaling.New(signaling.Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := call.New(cc, hub.Of("/"), nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", hub)
	mux.Handle("/", newHandler(t, wc))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		svc.Close()
		srv.Close()
	})
	return srv.URL
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestBrowserPrivateMeeting: "New meeting" opens an unguessable room that
// never shows in the live list; its first joiner sets a passcode; a guest
// sees a clear message for a missing passcode and for a name already used,
// then gets in.
func TestBrowserPrivateMeeting(t *testing.T) {
	base := startApp(t, call.Config{}, web.Config{})
	b := browsertest.Start(t, browsertest.Options{})
	home, host, guest, public := b.NewPage(), b.NewPage(), b.NewPage(), b.NewPage()

	must(t, home.Navigate(base+"/"))
	must(t, home.WaitFor(`window.noom.state().v >= 0`, 10*time.Second))

	must(t, host.Navigate(base+"/"))
	must(t, host.SetValue(`[data-testid="name-input"]`, "Ann"))
	must(t, host.Click(`[data-testid="new-meeting-button"]`))
	must(t, host.WaitFor(`/^\/room\/[a-z2-7]{26}$/.test(location.pathname) && document.readyState === "complete" && !!window.noom && window.noom.state().page === "room"`, 10*time.Second))
	var room string
	must(t, host.Eval(`window.noom.state().room`, &room))
	if !call.IsMeetingCode(room) {
		t.Fatalf("New meeting made room %q", room)
	}
	must(t, host.WaitFor(`window.noom.state().signaling === "connected" && window.noom.state().local.video`, 10*time.Second))
	must(t, host.SetValue(`[data-testid="passcode-input"]`, "open sesame"))
	must(t, host.Click(`[data-testid="join-button"]`))
	must(t, host.WaitFor(`window.noom.state().joined`, 10*time.Second))

	// A public room made after the meeting shows; the meeting never does.
	must(t, public.Navigate(base+"/room/Town%20hall?name=Zed"))
	must(t, public.WaitFor(`window.noom.state().signaling === "connected" && window.noom.state().local.video`, 10*time.Second))
	must(t, public.Click(`[data-testid="join-button"]`))
	must(t, public.WaitFor(`window.noom.state().joined`, 10*time.Second))
	must(t, home.WaitFor(`document.querySelector('[data-testid="room-item"][data-room="Town hall"]')?.dataset.size === "1"`, 10*time.Second))
	var listed struct {
		Rooms []struct{ Name string }
		Total int
	}
	must(t, home.Eval(`window.noom.state()`, &listed))
	if len(listed.Rooms) != 1 || listed.Total != 1 {
		t.Fatalf("home lists %+v", listed)
	}

	joinError := func(code, text string) {
		t.Helper()
		must(t, guest.Click(`[data-testid="join-button"]`))
		must(t, guest.WaitFor(`document.querySelector('[data-testid="join-error"]').dataset.code === `+jsString(code), 10*time.Second))
		var msg string
		must(t, guest.Eval(`document.querySelector('[data-testid="join-error"]').textContent`, &msg))
		if !strings.Contains(msg, text) {
			t.Errorf("%s shows %q, want it to say %q", code, msg, text)
		}
	}
	must(t, guest.Navigate(base+"/room/"+room+"?name=ann"))
	must(t, guest.WaitFor(`window.noom.state().signaling === "connected" && window.noom.state().local.video`, 10*time.Second))
	joinError(call.CodeBadPasscode, "passcode")
	must(t, guest.WaitFor(`document.activeElement === document.querySelector('[data-testid="passcode-input"]')`, 5*time.Second))
	must(t, guest.SetValue(`[data-testid="passcode-input"]`, "open sesame"))
	joinError(call.CodeNameTaken, "name")
	must(t, guest.SetValue(`[data-testid="name-input"]`, "Bob"))
	must(t, guest.Click(`[data-testid="join-button"]`))
	must(t, guest.WaitFor(`window.noom.state().joined`, 10*time.Second))
	must(t, host.WaitFor(`window.noom.state().peers.length === 1`, 10*time.Second))
	browsertest.FailOnPageErrors(t, home, host, guest, public)
}

// TestBrowserHiddenRoomList: with the list off on both sides, the home page
// shows no list, and New meeting still works.
func TestBrowserHiddenRoomList(t *testing.T) {
	base := startApp(t, call.Config{HideRoomList: true}, web.Config{HideRoomList: true})
	p := browsertest.Start(t, browsertest.Options{}).NewPage()
	must(t, p.Navigate(base+"/"))
	must(t, p.WaitFor(`window.noom.state().connected`, 10*time.Second))
	var n int
	must(t, p.Eval(`document.querySelectorAll('[data-testid="room-list"]').length`, &n))
	if n != 0 {
		t.Fatalf("%d room lists", n)
	}
	must(t, p.SetValue(`[data-testid="name-input"]`, "Ann"))
	must(t, p.Click(`[data-testid="new-meeting-button"]`))
	must(t, p.WaitFor(`/^\/room\/[a-z2-7]{26}$/.test(location.pathname)`, 10*time.Second))
	browsertest.FailOnPageErrors(t, p)
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
