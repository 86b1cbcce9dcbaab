package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/internal/redistest"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/redis/go-redis/v9"
)

// TestHTTPConnsPerIP holds idle connections from one IP up to the cap: the
// next is closed at once, while another loopback IP is still served.
func TestHTTPConnsPerIP(t *testing.T) {
	rd := startNoom(t, "--max-http-conns-per-ip", "5", "--turn=false")
	var held []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", rd.HTTP)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// The sixth from 127.0.0.1 is closed without an answer.
	c, err := net.Dial("tcp", rd.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); err == nil {
		t.Fatalf("over the cap, answered %q", line)
	}
	// Another client IP (127.0.0.2) is served.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c2, err := d.Dial("tcp", rd.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, _ := bufio.NewReader(c2).ReadString('\n'); !strings.Contains(line, "200") {
		t.Fatalf("another IP: %q", line)
	}
	// A held connection that closes frees its slot.
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", rd.HTTP)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if strings.Contains(line, "200") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the freed slot was never reused")
		}
	}
}

// TestHTTPIdleTimeout checks that an idle keep-alive connection is closed
// after --http-idle-timeout.
func TestHTTPIdleTimeout(t *testing.T) {
	rd := startNoom(t, "--http-idle-timeout", "200ms", "--turn=false")
	c, err := net.Dial("tcp", rd.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var all bytes.Buffer
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		all.Write(buf[:n])
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the idle connection is still open after 5 s")
			}
			break // closed by the server
		}
	}
	if !strings.Contains(all.String(), "200 OK") {
		t.Errorf("answer %q", all.String())
	}
}

// TestRateLimitedWriter checks that a flood of error lines is cut to the
// burst, and that the skipped ones are counted in the next window.
func TestRateLimitedWriter(t *testing.T) {
	var out bytes.Buffer
	w := &rateLimitedWriter{w: &out, burst: 3, interval: time.Hour}
	for range 1000 {
		w.Write([]byte("http: Accept error: too many open files\n"))
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Fatalf("%d lines written, want 3", n)
	}
	w.start = time.Now().Add(-2 * time.Hour) // the window ends
	w.Write([]byte("next\n"))
	if !strings.Contains(out.String(), "997 more errors not logged\nnext\n") {
		t.Errorf("log %q", out.String())
	}
}

// TestHostCheck checks that with --public-host a request for another host
// (DNS rebinding) is refused, while the public host and the listen
// address are served.
func TestHostCheck(t *testing.T) {
	rd := startNoom(t, "--public-host", "meet.example", "--turn=false")
	for host, want := range map[string]string{
		"meet.example":      "200",
		"meet.example:3000": "200",
		rd.HTTP:             "200",
		"evil.example":      "421",
	} {
		c, err := net.Dial("tcp", rd.HTTP)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if !strings.Contains(line, want) {
			t.Errorf("Host %s: %q, want %s", host, line, want)
		}
	}
}

// TestMetricsToken checks that /metrics requires the bearer token of
// --metrics-token-file.
func TestMetricsToken(t *testing.T) {
	f := t.TempDir() + "/token"
	os.WriteFile(f, []byte("s3cret\n"), 0o600)
	rd := startNoom(t, "--metrics-token-file", f, "--turn=false")
	for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "Bearer s3cret": 200} {
		req, _ := http.NewRequest("GET", "http://"+rd.Metrics+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Authorization %q: %d, want %d", auth, resp.StatusCode, want)
		}
	}
}

// TestSocketIOAdminWiring checks that --admin-socketio serves the Admin UI
// namespace with the console's credentials: a wrong password gets exactly
// "invalid credentials", the right one a session.
func TestSocketIOAdminWiring(t *testing.T) {
	f := t.TempDir() + "/pw"
	os.WriteFile(f, []byte("hunter22\n"), 0o600)
	rd := startNoom(t, "--admin-socketio", "--admin-password-file", f, "--turn=false")
	ctx := t.Context()
	_, err := sioclient.Dial(ctx, "http://"+rd.HTTP, sioclient.Options{Namespace: "/admin",
		Auth: map[string]any{"username": "admin", "password": "wrong"}})
	var ce *sioclient.ConnectError
	if !errors.As(err, &ce) || ce.Message != "invalid credentials" {
		t.Fatalf("wrong password: %v", err)
	}
	c, err := sioclient.Dial(ctx, "http://"+rd.HTTP, sioclient.Options{Namespace: "/admin",
		Auth: map[string]any{"username": "admin", "password": "hunter22"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Next(wctx, "session"); err != nil {
		t.Fatalf("no session after login: %v", err)
	}
}

// TestRedisURL checks that --redis-url puts the hub on the Redis cluster
// adapter, and --redis-password-file gives it (and the call rooms' client)
// the password: noom_redis_up and the call registry's gauge reach 1 on a
// redis-server of the test's own that requires a password.
func TestRedisURL(t *testing.T) {
	r := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	if err := rdb.ConfigSet(context.Background(), "requirepass", "s3cret pass").Err(); err != nil {
		t.Fatal(err)
	}
	rdb.Close()
	pw := filepath.Join(t.TempDir(), "redis-password")
	if err := os.WriteFile(pw, []byte("s3cret pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rd := startNoom(t, "--redis-url", r.URL(), "--redis-password-file", pw, "--turn=false")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body, _ := get(t, "http://"+rd.Metrics+"/metrics")
		if strings.Contains(body, "\nnoom_redis_up 1") && strings.Contains(body, "\nnoom_call_registry_redis_up 1") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("noom_redis_up or noom_call_registry_redis_up never reached 1 with the password from the file")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisPasswordFileFlag: the file's first line is the password; an
// empty line, a missing file or no --redis-url is refused.
func TestRedisPasswordFileFlag(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := func(string) string { return "" }
	o, err := parseOptions([]string{"--redis-url", "redis://127.0.0.1:1/0", "--redis-password-file", write("ok", "pa ss\r\nignored\n")}, env, io.Discard)
	if err != nil || o.RedisPassword != "pa ss" {
		t.Fatalf("password %q, err %v", o.RedisPassword, err)
	}
	for name, args := range map[string][]string{
		"empty line": {"--redis-url", "redis://127.0.0.1:1/0", "--redis-password-file", write("empty", "\nx\n")},
		"no file":    {"--redis-url", "redis://127.0.0.1:1/0", "--redis-password-file", filepath.Join(dir, "none")},
		"no url":     {"--redis-password-file", write("alone", "x\n")},
	} {
		if _, err := parseOptions(args, env, io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
