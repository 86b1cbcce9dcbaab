package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/noomrtc/noom/web/browsertest"
)

func TestHarness(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>t</title><input id="i"><p id="out">x</p>` +
			`<button id="b" onclick="document.getElementById('out').textContent = document.getElementById('i').value">go</button>`))
	}))
	defer srv.Close()

	b := browsertest.Start(t, browsertest.Options{})
	p := b.NewPage()
	if err := p.Navigate(srv.URL); err != nil {
		t.Fatal(err)
	}
	var title string
	if err := p.Eval(`document.title`, &title); err != nil || title != "t" {
		t.Fatalf("title = %q, %v", title, err)
	}
	var n int
	if err := p.Eval(`new Promise(r => setTimeout(() => r(41 + 1), 10))`, &n); err != nil || n != 42 {
		t.Fatalf("awaited promise = %d, %v", n, err)
	}
	if err := p.Type("#i", "hello"); err != nil {
		t.Fatal(err)
	}
	if err := p.Click("#b"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.getElementById("out").textContent === "hello"`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(`console.error("boom")`, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`true`, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`false`, 300*time.Millisecond); err == nil {
		t.Fatal("WaitFor(false) succeeded")
	}
	// Fake media devices are granted without a prompt.
	var tracks int
	if err := p.Eval(`navigator.mediaDevices.getUserMedia({video: true, audio: true}).then(s => s.getTracks().length)`, &tracks); err != nil || tracks != 2 {
		t.Fatalf("getUserMedia tracks = %d, %v", tracks, err)
	}
	shot := browsertest.ArtifactPath(t, "harness.png")
	if err := p.Screenshot(shot); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(p.Errors()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if errs := p.Errors(); len(errs) == 0 {
		t.Fatalf("console.error not recorded; messages: %q", p.Messages())
	}
}
