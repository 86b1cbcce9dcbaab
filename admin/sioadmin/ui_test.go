package sioadmin

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/web/browsertest"
)

// uiDist is the built Admin UI of the npm package @socket.io/admin-ui.
var uiDist = filepath.Join(nodeDir, "node_modules", "@socket.io", "admin-ui", "ui", "dist")

// TestAdminUIInChromium serves the real Admin UI 0.5.1 on a loopback port
// of its own (so the hub sees a foreign origin, allowed with credentials
// as --allowed-origin does), logs in through its form in Chromium, and
// checks what it shows: the dashboard's client count and, in development
// mode, a socket of a test client on the sockets page.
func TestAdminUIInChromium(t *testing.T) {
	if _, err := os.Stat(filepath.Join(uiDist, "index.html")); err != nil {
		msg := "sioadmin: @socket.io/admin-ui is not installed in " + nodeDir + "/node_modules: run `npm ci --prefix admin/sioadmin/testdata/node`"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	browsertest.RequireChromium(t)
	ui := httptest.NewServer(http.FileServer(http.Dir(uiDist)))
	t.Cleanup(ui.Close)
	// Room for a retried refused login (below) within the throttle.
	auth, err := NewBcrypt(testUser, testHash(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	h := newHubWith(t, signaling.Config{AllowedOrigins: []string{ui.URL}}, Config{Auth: auth, Mode: Development})
	client := dial(t, h, 1)[0]
	sid := ""
	for _, v := range h.srv.Lookup("/").ListSockets(signaling.SocketQuery{}).Items {
		sid = v.ID
	}
	if sid == "" || client == nil {
		t.Fatal("the test client has no socket")
	}

	p := browsertest.Start(t, browsertest.Options{}).NewPage()
	if err := p.Navigate(ui.URL + "/"); err != nil {
		t.Fatal(err)
	}
	login := func(password string) {
		t.Helper()
		if err := p.WaitFor(`document.querySelectorAll(".v-dialog input:not([type=checkbox])").length >= 3`, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		for i, v := range []string{h.url, testUser, password} {
			err := p.Eval(`(() => {
				const el = document.querySelectorAll(".v-dialog input:not([type=checkbox])")[`+strconv.Itoa(i)+`];
				el.focus();
				el.value = `+strconv.Quote(v)+`;
				el.dispatchEvent(new Event("input", {bubbles: true}));
				return true;
			})()`, nil)
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Click(`.v-dialog button[type=submit]`); err != nil {
			t.Fatal(err)
		}
	}
	// The form sometimes submits before the UI has taken the typed values
	// (no request reaches the hub, nothing is shown): submit again, a few
	// times, until it shows the refusal.
	refused := `document.querySelector(".v-dialog .red--text")?.textContent.includes("Invalid credentials")`
	for attempt := 1; ; attempt++ {
		login("wrong")
		err := p.WaitFor(refused, 7*time.Second)
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatal("the UI does not show a refused login: ", err)
		}
	}
	login(testPassword)

	// The dashboard: the test client and the UI's own connection.
	const clients = `(() => {
		const card = [...document.querySelectorAll(".v-card")].find(c => c.querySelector(".v-card__title")?.textContent.trim().startsWith("Clients"));
		return card ? [...card.querySelectorAll("h2")].reduce((n, h) => n + Number(h.textContent.trim()), 0) : -1;
	})()`
	if err := p.WaitFor(clients+` === 2`, 20*time.Second); err != nil {
		p.Screenshot(browsertest.ArtifactPath(t, "dashboard.png"))
		t.Fatal("the dashboard does not count 2 clients: ", err)
	}
	p.Screenshot(browsertest.ArtifactPath(t, "dashboard.png"))

	// The sockets page lists the test client's socket.
	if err := p.Navigate(ui.URL + "/#/sockets/"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.body.innerText.includes(`+strconv.Quote(sid)+`)`, 20*time.Second); err != nil {
		p.Screenshot(browsertest.ArtifactPath(t, "sockets.png"))
		t.Fatal("the sockets page does not list the test client: ", err)
	}
	p.Screenshot(browsertest.ArtifactPath(t, "sockets.png"))
	if errs := p.Errors(); len(errs) > 0 {
		t.Logf("page errors: %q", errs)
	}
}
