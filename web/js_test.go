package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// requireNode returns the node executable. Without it the test is skipped
// loudly, or fails when CI is set (Debian: apt-get install -y nodejs).
func requireNode(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err == nil {
		return p
	}
	msg := "!!! node NOT FOUND on $PATH: the JavaScript checks cannot run. Install Node.js 20+ (apt-get install -y nodejs)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestJavaScriptParses runs `node --check` on every embedded script.
func TestJavaScriptParses(t *testing.T) {
	node := requireNode(t)
	files, err := filepath.Glob("static/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, err := exec.Command(node, "--check", f).CombinedOutput()
			if err != nil {
				t.Fatalf("node --check %s: %v\n%s", f, err, out)
			}
		})
	}
}

// TestSocketIOClientConformance runs testdata/sioref: our browser client
// against the reference Socket.IO server (npm socket.io), over loopback.
// The npm packages are test-only; install them with
//
//	npm ci --prefix web/testdata/sioref
//
// Without them the test is skipped (loudly), unless CI or NOOM_REQUIRE_SIOREF
// is set, which makes it fail.
func TestSocketIOClientConformance(t *testing.T) {
	node := requireNode(t)
	dir := filepath.Join("testdata", "sioref")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io", "package.json")); err != nil {
		msg := "!!! reference Socket.IO server not installed: run `npm ci --prefix web/testdata/sioref` to check our client against it"
		if os.Getenv("CI") != "" || os.Getenv("NOOM_REQUIRE_SIOREF") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "conformance.test.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_ENV=test")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("conformance tests failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
