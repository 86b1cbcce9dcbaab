package signaling

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// checkNoLeaks fails the test if goroutines of the hub, of gorilla's
// WebSocket code or of net/http connections outlive it. Register it with
// t.Cleanup before anything else, so that it runs last, after the server
// has been shut down and the test's clients closed. Tests in this package
// do not run in parallel, so every such goroutine belongs to the test that
// just ended.
//
// It is our own small version of go.uber.org/goleak: it reads the stacks
// of every goroutine and retries for a short while, since goroutines that
// were told to stop may still be on their way out.
func checkNoLeaks(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	wait := time.Millisecond
	for {
		leaked := leakedGoroutines()
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
			return
		}
		time.Sleep(wait)
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}

// leakMarkers are frames that only a goroutine of a connection or of the
// hub has.
var leakMarkers = []string{
	"github.com/noomrtc/noom/signaling.",
	"github.com/gorilla/websocket.",
	"net/http.(*conn).serve",
	"net/http.(*persistConn)",
	"os/exec.",
}

func leakedGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	// The first block is the calling goroutine.
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue
		}
		s := string(g)
		if strings.Contains(s, "testing.(*T).Run(") || strings.Contains(s, "testing.(*B).run") ||
			strings.Contains(s, "testing.runTests") || strings.Contains(s, "testing.(*M).") {
			continue // a parent test waiting for its subtests
		}
		for _, m := range leakMarkers {
			if strings.Contains(s, m) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}
