package sioadmin

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
)

// The node tests drive the real socket.io-client (the one the Admin UI
// runs) with testdata/node/driver.mjs. They need node and
//
//	npm ci --prefix admin/sioadmin/testdata/node
//
// Without them they skip, or fail when CI is set.

const nodeDir = "testdata/node"

const (
	testUser     = "admin"
	testPassword = "correct horse"
)

// testHash is bcrypt of testPassword at the lowest cost, made once.
var testHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return h
})

func testAuth(t *testing.T) *Bcrypt {
	t.Helper()
	b, err := NewBcrypt(testUser, testHash(), 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hub is a signaling server on loopback with an Admin on it.
type hub struct {
	srv   *signaling.Server
	url   string
	admin *Admin
	reg   *prometheus.Registry
}

func newHub(t testing.TB, cfg Config) *hub {
	t.Helper()
	return newHubWith(t, signaling.Config{}, cfg)
}

// newHubWith is newHub with a hub configuration.
func newHubWith(t testing.TB, scfg signaling.Config, cfg Config) *hub {
	t.Helper()
	srv, err := signaling.New(scfg, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	reg := prometheus.NewRegistry()
	a, err := New(cfg, srv, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
	})
	return &hub{srv: srv, url: hs.URL, admin: a, reg: reg}
}

func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	missing := ""
	if err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "socket.io-client", "package.json")); err != nil {
		missing = "socket.io-client is not installed in " + nodeDir + "/node_modules"
	}
	if missing != "" {
		msg := "sioadmin: " + missing + ": run `npm ci --prefix admin/sioadmin/testdata/node` (from the repository root)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node
}

// msg is a line the driver printed.
type msg map[string]any

func (m msg) str(k string) string { s, _ := m[k].(string); return s }

// args are the arguments of an "event" line.
func (m msg) args() []any { a, _ := m["args"].([]any); return a }

// driver runs testdata/node/driver.mjs.
type driver struct {
	t       *testing.T
	stdin   io.WriteCloser
	lines   chan msg
	backlog []msg
}

func startDriver(t *testing.T) *driver {
	t.Helper()
	node := requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, node, "driver.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	d := &driver{t: t, lines: make(chan msg, 1024)}
	cmd.Stderr = os.Stderr // node's errors go to the test's output
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if d.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var m msg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = msg{"ev": "unparsed", "line": sc.Text()}
			}
			d.lines <- m
		}
		close(d.lines)
	}()
	t.Cleanup(func() {
		d.stdin.Close()
		cmd.Process.Kill()
		<-done
		cmd.Wait()
		cancel()
	})
	return d
}

func (d *driver) send(cmd map[string]any) {
	d.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := d.stdin.Write(append(b, '\n')); err != nil {
		d.t.Fatalf("driver: %v", err)
	}
}

// connect opens a socket named id on the namespace nsp.
func (d *driver) connect(h *hub, id, nsp string, auth map[string]any, extra ...any) {
	d.t.Helper()
	cmd := map[string]any{"op": "connect", "id": id, "url": h.url + nsp, "auth": auth}
	for i := 0; i+1 < len(extra); i += 2 {
		cmd[extra[i].(string)] = extra[i+1]
	}
	d.send(cmd)
}

func (d *driver) emit(id string, args ...any) {
	d.send(map[string]any{"op": "emit", "id": id, "args": args})
}

// wait returns the first line, oldest first, that match accepts, keeping
// the others for later waits.
func (d *driver) wait(what string, match func(msg) bool) msg {
	d.t.Helper()
	for i, m := range d.backlog {
		if match(m) {
			d.backlog = append(d.backlog[:i:i], d.backlog[i+1:]...)
			return m
		}
	}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-d.lines:
			if !ok {
				d.t.Fatalf("driver ended waiting for %s", what)
			}
			if m.str("ev") == "unparsed" || m.str("ev") == "error" {
				d.t.Fatalf("driver: %v", m)
			}
			if match(m) {
				return m
			}
			d.backlog = append(d.backlog, m)
		case <-timeout:
			d.t.Fatalf("no %s; seen: %v", what, d.backlog)
			return nil
		}
	}
}

// waitEv waits for line ev of socket id.
func (d *driver) waitEv(id, ev string) msg {
	d.t.Helper()
	return d.wait(id+" "+ev, func(m msg) bool { return m.str("id") == id && m.str("ev") == ev })
}

// waitEvent waits for event name on socket id whose args match (nil:
// any).
func (d *driver) waitEvent(id, name string, match func(args []any) bool) []any {
	d.t.Helper()
	m := d.wait(id+" event "+name, func(m msg) bool {
		return m.str("id") == id && m.str("ev") == "event" && m.str("name") == name && (match == nil || match(m.args()))
	})
	return m.args()
}

// seen reports whether a line already read and not yet taken matches.
func (d *driver) seen(match func(msg) bool) bool {
	for _, m := range d.backlog {
		if match(m) {
			return true
		}
	}
	return false
}

func password() map[string]any { return map[string]any{"username": testUser, "password": testPassword} }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
