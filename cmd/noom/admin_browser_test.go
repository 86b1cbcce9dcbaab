package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/noomrtc/noom/web/browsertest"
)

// TestBrowserAdmin drives the console in real Chromium: log in through the
// form, see a socket a client connected (with a hostile nickname and room
// name shown as text), watch its event (with a hostile name) appear live
// in the message flow, press "Disconnect" on its page, confirm, and the
// client sees the disconnect. No script from the hostile names runs: the
// page would set window.__xss, and no element they describe exists.
func TestBrowserAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	browsertest.RequireChromium(t)
	rd, password := startAdminNoom(t)
	base := "http://" + rd.Admin

	const (
		nick  = `<img src=x onerror=__xss=1>"'`
		room  = `</script><script>window.__xss=2</script>"'`
		event = `<svg onload="window.__xss=3">`
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := sioclient.Dial(ctx, "http://"+rd.HTTP, sioclient.Options{Header: http.Header{"User-Agent": {`"><b id=hdr>ua</b>`}}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	joinRoom(ctx, t, cl, room, nick)

	b := browsertest.Start(t, browsertest.Options{Width: 1360, Height: 900})
	p := b.NewPage()
	must(t, p.Navigate(base+"/admin/sockets"))
	must(t, p.WaitFor(`document.querySelector('[data-testid="login-form"]') !== null`, 10*time.Second))
	shot(t, p, "login.png")
	must(t, p.SetValue(`[data-testid="login-user"]`, "admin"))
	must(t, p.SetValue(`[data-testid="login-password"]`, password))
	must(t, p.Click(`[data-testid="login-submit"]`))
	// Back where we asked to go, the socket listed with its nickname as text.
	must(t, p.WaitFor(`location.pathname === "/admin/sockets" && document.querySelector('[data-sid="`+cl.ID+`"]') !== null`, 10*time.Second))
	var name string
	must(t, p.Eval(`document.querySelector('[data-sid="`+cl.ID+`"] [data-testid="socket-name"]').textContent`, &name))
	if name != nick {
		t.Errorf("nickname shown as %q, want the text %q", name, nick)
	}
	shot(t, p, "sockets.png")

	// The overview, with live charts.
	must(t, p.Navigate(base+"/admin/"))
	must(t, p.WaitFor(`document.querySelector('[data-testid="live-status"]').dataset.state === "online"`, 10*time.Second))
	shot(t, p, "overview.png")

	// Rooms: the hostile room name is text.
	must(t, p.Navigate(base+"/admin/rooms"))
	var rooms []string
	must(t, p.Eval(`[...document.querySelectorAll('[data-testid="room-link"]')].map(a => a.textContent)`, &rooms))
	if len(rooms) != 1 || rooms[0] != room {
		t.Errorf("rooms listed %q, want [%q]", rooms, room)
	}
	must(t, p.Click(`[data-testid="room-link"]`))
	must(t, p.WaitFor(`document.querySelector('[data-testid="room-name"]') !== null`, 10*time.Second))
	var roomName string
	must(t, p.Eval(`document.querySelector('[data-testid="room-name"]').textContent`, &roomName))
	if roomName != room {
		t.Errorf("room page shows %q, want %q", roomName, room)
	}
	shot(t, p, "room.png")

	// The message flow, live: the client's event appears without a reload.
	must(t, p.Navigate(base+"/admin/flow"))
	must(t, p.WaitFor(`document.querySelector('[data-testid="flow-status"]').textContent === "live"`, 10*time.Second))
	var before int
	must(t, p.Eval(`document.querySelectorAll('[data-testid="flow-row"]').length`, &before))
	must(t, cl.Emit(event, map[string]string{"x": "y"}))
	must(t, p.WaitFor(`[...document.querySelectorAll('[data-testid="flow-what"]')].some(td => td.textContent === `+jsQuote(event)+`)`, 10*time.Second))
	shot(t, p, "flow.png")

	// Socket page: headers shown as text; disconnect with confirmation.
	must(t, p.Navigate(base+"/admin/sockets/_/"+cl.ID))
	must(t, p.WaitFor(`document.querySelector('[data-testid="socket-sid"]') !== null`, 10*time.Second))
	var ua bool
	must(t, p.Eval(`document.getElementById("hdr") === null && document.body.textContent.includes('"><b id=hdr>ua</b>')`, &ua))
	if !ua {
		t.Error("the User-Agent header was not shown as text")
	}
	shot(t, p, "socket.png")
	dialogs := chromedp.Events(p.Context(), page.JavascriptDialogOpening)
	confirmed := make(chan string, 1)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			confirmed <- ev.Message
			chromedp.Call(p.Context(), page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			return
		}
	}()
	must(t, p.Click(`[data-testid="disconnect-socket"]`))
	select {
	case msg := <-confirmed:
		if !strings.Contains(msg, cl.ID) {
			t.Errorf("confirmation %q does not name the socket", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no confirmation asked")
	}
	select {
	case <-cl.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the client was not disconnected")
	}
	must(t, p.WaitFor(`location.pathname === "/admin/sockets" && document.querySelector('[data-sid="`+cl.ID+`"]') === null`, 10*time.Second))

	// Nothing hostile ran or became an element, anywhere.
	var xss any
	must(t, p.Eval(`window.__xss || document.querySelector('img[src="x"], svg[onload]') !== null`, &xss))
	if xss != false {
		t.Errorf("hostile name ran or became markup: %v", xss)
	}
	for _, e := range p.Errors() {
		t.Errorf("browser error: %s", e)
	}

	// The same product in the dark.
	_, err = chromedp.Call(p.Context(), emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
	must(t, err)
	must(t, p.Navigate(base+"/admin/flow"))
	var bg string
	must(t, p.Eval(`getComputedStyle(document.body).backgroundColor`, &bg))
	if bg != "rgb(15, 18, 22)" {
		t.Errorf("dark background is %s", bg)
	}
	shot(t, p, "flow-dark.png")
	must(t, p.Navigate(base+"/admin/turn"))
	shot(t, p, "turn-dark.png")
}

func shot(t *testing.T, p *browsertest.Page, name string) {
	t.Helper()
	path := browsertest.ArtifactPath(t, name)
	if dir := os.Getenv("NOOM_ADMIN_SHOTS"); dir != "" {
		path = filepath.Join(dir, name)
	}
	if err := p.Screenshot(path); err != nil {
		t.Log(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func jsQuote(s string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`", "$", "\\$").Replace(s) + "`"
}
