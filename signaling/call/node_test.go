package call_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling/call"
)

// TestOfficialClient drives the call protocol with the official
// socket.io-client under Node: testdata/node/call.mjs checks every row of
// the protocol table and every error code, over WebSocket and polling.
func TestOfficialClient(t *testing.T) {
	node, err := exec.LookPath("node")
	dir := filepath.Join("testdata", "node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "socket.io-client", "package.json"))
	}
	if err != nil {
		msg := "!!! node or socket.io-client missing: run `npm ci --prefix signaling/call/testdata/node` (" + err.Error() + ")"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	e := newEnv(t, call.Config{MaxRoomSize: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "call.mjs", e.url)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("call.mjs: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "PASS "); n != 23 {
		t.Fatalf("want 23 checks to pass, got %d:\n%s", n, out)
	}
	t.Logf("%s", out)
}
