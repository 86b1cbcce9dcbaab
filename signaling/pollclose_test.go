package signaling

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestPollCloseRace: a GET and a POST of the close packet sent at once
// (the official suite's "should forcefully close the session") always
// give the GET 200 and a noop, whichever the server handles first:
// before, a GET that found the session just before the close saw it
// closed and got 400, about one suite run in ten.
func TestPollCloseRace(t *testing.T) {
	h := newHub(t, Config{})
	for range 200 {
		p, _ := h.openPoll(nil)
		var wg sync.WaitGroup
		var status int
		var body string
		var getErr error
		wg.Go(func() {
			resp, err := p.client.Get(p.url())
			if err != nil {
				getErr = err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			status, body = resp.StatusCode, string(b)
		})
		wg.Go(func() {
			resp, err := p.client.Post(p.url(), "text/plain", strings.NewReader("1"))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
		wg.Wait()
		if getErr != nil || status != http.StatusOK || body != "6" {
			t.Fatalf("GET beside the close: %d %q %v", status, body, getErr)
		}
	}
}
