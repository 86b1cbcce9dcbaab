package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
)

// startNoom runs noom in-process on loopback ports chosen by the kernel.
func startNoom(t *testing.T, args ...string) ready {
	t.Helper()
	return startNoomLog(t, io.Discard, args...)
}

// startNoomLog is startNoom with the log written to stderr.
func startNoomLog(t *testing.T, stderr io.Writer, args ...string) ready {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rdc := make(chan ready, 1)
	errc := make(chan error, 1)
	args = append([]string{"--addr", "127.0.0.1:0", "--turn-addr", "127.0.0.1:0", "--log-level", "warn"}, args...)
	go func() {
		errc <- run(ctx, args, func(string) string { return "" }, io.Discard, stderr, func(r ready) { rdc <- r })
	}()
	select {
	case rd := <-rdc:
		t.Cleanup(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("run: %v", err)
			}
		})
		return rd
	case err := <-errc:
		cancel()
		t.Fatalf("run: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("noom did not start")
	}
	return ready{}
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// checkRoutes checks every route noom serves on base.
func checkRoutes(t *testing.T, base, metricsBase string) {
	t.Helper()
	for _, tc := range []struct {
		path, contains string
		status         int
	}{
		{"/healthz", "ok", 200},
		{"/readyz", "ready", 200},
		{"/", "<html", 200},
		{"/room/standup", "<html", 200},
		{"/socket.io/socket.io.js", "function", 200},
		{"/socket.io/?EIO=4&transport=polling", `"upgrades":["websocket"]`, 200},
		{"/socket.io/?EIO=3&transport=polling", "Unsupported protocol version", 400},
		{"/no/such/page", "", http.StatusFound},
	} {
		status, body, _ := get(t, base+tc.path)
		if status != tc.status && !(tc.status == http.StatusFound && status >= 300 && status < 400) {
			t.Errorf("GET %s: status %d, want %d", tc.path, status, tc.status)
		}
		if !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: body lacks %q: %.200s", tc.path, tc.contains, body)
		}
	}
	status, body, _ := get(t, metricsBase+"/metrics")
	for _, m := range []string{"noom_signaling_open_connections", "noom_call_rooms", "noom_turn_", "go_goroutines"} {
		if status != 200 || !strings.Contains(body, m) {
			t.Errorf("/metrics (%d) lacks %s", status, m)
		}
	}
}

func TestRunServesEveryRoute(t *testing.T) {
	rd := startNoom(t)
	base := "http://" + rd.HTTP
	checkRoutes(t, base, base)
	if !rd.TURN.UDP.IsValid() || !rd.TURN.Relay.IsLoopback() {
		t.Fatalf("TURN addresses %+v", rd.TURN)
	}

	// The call protocol is on, with ICE servers from the in-process TURN.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, base, sioclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ack struct {
		OK         bool
		IceServers []struct {
			URLs       []string `json:"urls"`
			Username   string
			Credential string
		}
	}
	if err := c.Call(ctx, &ack, "join", map[string]any{"room": "r", "name": "n"}); err != nil || !ack.OK {
		t.Fatalf("join: %v %+v", err, ack)
	}
	turnURLs := 0
	for _, s := range ack.IceServers {
		for _, u := range s.URLs {
			if strings.HasPrefix(u, "turn:127.0.0.1:") {
				turnURLs++
				if s.Username == "" || s.Credential == "" {
					t.Errorf("turn server without credentials: %+v", s)
				}
			}
		}
	}
	if turnURLs < 2 {
		t.Fatalf("want turn: UDP and TCP URLs for 127.0.0.1, got %+v", ack.IceServers)
	}
}

func TestSeparateMetricsAddr(t *testing.T) {
	rd := startNoom(t, "--metrics-addr", "127.0.0.1:0")
	if rd.Metrics == rd.HTTP {
		t.Fatal("metrics on the main address")
	}
	if status, _, _ := get(t, "http://"+rd.HTTP+"/metrics"); status == 200 {
		t.Error("/metrics still served on --addr")
	}
	checkRoutes(t, "http://"+rd.HTTP, "http://"+rd.Metrics)
}

func TestFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{"NOOM_TURN_REALM": "example.org", "NOOM_TURN_ALLOW_PEER": "127.0.0.0/8,::1/128", "NOOM_ADDR": ":9999"}
	o, err := parseOptions([]string{"--addr", ":4000"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != ":4000" || o.TURNRealm != "example.org" || len(o.TURNAllowPeer) != 2 {
		t.Fatalf("options %+v", o)
	}
	for _, bad := range [][]string{{"--turn-public-ip", "nope"}, {"--turn-allow-peer", "10.0.0.0/33"}, {"--log-format", "xml"}, {"--log-level", "bogus"}, {"--turn-tls-cert", "c.pem"}, {"extra"}} {
		if _, err := parseOptions(bad, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := parseOptions([]string{"--help"}, func(string) string { return "" }, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	o, _ = parseOptions([]string{"--turn-secret", "s3cret"}, func(string) string { return "" }, io.Discard)
	if d := fmt.Sprint(o.describe()...); strings.Contains(d, "s3cret") || !strings.Contains(d, "********") {
		t.Fatalf("secret not masked: %s", d)
	}
}

// TestGoRunDefaults starts the product the way the README says, with no
// flags, and checks every route on the default port.
func TestGoRunDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if c, err := (&http.Client{Timeout: time.Second}).Get("http://127.0.0.1:3000/healthz"); err == nil {
		c.Body.Close()
		if os.Getenv("CI") != "" {
			t.Fatal("port 3000 is taken: cannot run noom with its defaults")
		}
		t.Skip("port 3000 is taken")
	}
	cmd := exec.Command("go", "run", ".")
	// Every default but the interfaces: tests listen on loopback only, on
	// the default ports.
	cmd.Env = append(os.Environ(), "NOOM_LOG_LEVEL=warn", "NOOM_ADDR=127.0.0.1:3000", "NOOM_TURN_ADDR=127.0.0.1:3478")
	// Its own process group, so that SIGINT reaches noom as Ctrl-C would,
	// not only the go command.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Error("noom did not stop on SIGINT")
		}
	})
	banner := make(chan string, 1)
	go func() {
		var sb strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			sb.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "STUN/TURN") {
				banner <- sb.String()
			}
		}
	}()
	select {
	case b := <-banner:
		if !strings.Contains(b, "http://127.0.0.1:3000/") {
			t.Fatalf("banner: %s", b)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("go run ./cmd/noom did not start")
	}
	checkRoutes(t, "http://127.0.0.1:3000", "http://127.0.0.1:3000")
}
