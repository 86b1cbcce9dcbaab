package stunturn

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The interop tests run coturn's client tools (Debian package coturn)
// against this server on loopback.

// runTool runs a coturn tool with a time limit and returns its output.
func runTool(t *testing.T, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	path, err := lookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if testing.Verbose() {
		t.Logf("%s %s:\n%s", name, strings.Join(args, " "), out)
	}
	return string(out), err
}

// startTool starts a long-running coturn tool; the test's cleanup stops it.
func startTool(t *testing.T, name string, args ...string) {
	t.Helper()
	path, err := lookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}

// freeUDPPort returns a loopback UDP port that was free a moment ago, for
// tools that cannot bind port 0 and report it.
func freeUDPPort(t testing.TB) int {
	t.Helper()
	// coturn listens on TCP at the same port: a UDP port whose TCP twin
	// some client connection holds makes it fail to start.
	for range 100 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		c.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return 0
}

// waitEcho waits until a UDP echo server answers at addr.
func waitEcho(t testing.TB, addr string) {
	t.Helper()
	c, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 16)
	for range 50 {
		_, _ = c.Write([]byte("ping"))
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil && string(buf[:n]) == "ping" {
			return
		}
		if err != nil {
			time.Sleep(100 * time.Millisecond) // refused: not listening yet
		}
	}
	t.Fatalf("no echo from %s", addr)
}

func TestCoturnStunclient(t *testing.T) {
	needTools(t, false, "turnutils_stunclient")
	srv, _ := newTestServer(t, Config{})
	out, err := runTool(t, 10*time.Second, "turnutils_stunclient", "-p", strconv.Itoa(int(srv.Addrs().UDP.Port())), "127.0.0.1")
	if err != nil {
		t.Fatalf("turnutils_stunclient: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`UDP reflexive addr: 127\.0\.0\.1:\d+`).MatchString(out) {
		t.Fatalf("no reflexive address in:\n%s", out)
	}
}

// TestCoturnUclient relays coturn's test client through this server, with
// credentials it derives itself from the shared secret (-W: the TURN REST
// API as coturn's use-auth-secret), to turnutils_peer and between two of
// its own allocations (-y), over UDP and TCP, with channels and with Send.
func TestCoturnUclient(t *testing.T) {
	needTools(t, false, "turnutils_uclient", "turnutils_peer")
	const secret = "north"
	open, _ := newTestServer(t, Config{Secret: []byte(secret), AllowPeers: loopback})
	strict, _ := newTestServer(t, Config{Secret: []byte(secret)}) // default peer filter

	peerPort := freeUDPPort(t)
	startTool(t, "turnutils_peer", "-p", strconv.Itoa(peerPort), "-L", "127.0.0.1")
	waitEcho(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(peerPort)))

	tests := []struct {
		name  string
		srv   *Server
		flags []string
		msgs  int // both ways, over all clients
	}{
		{"udp channels", open, []string{"-c"}, 40},
		{"tcp channels", open, []string{"-c", "-t"}, 40},
		{"udp send indications", open, []string{"-c", "-s"}, 40},
		{"client to client udp", strict, []string{"-y"}, 80},
		{"client to client tcp", strict, []string{"-y", "-t"}, 80},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"-W", secret, "-u", "uclient", "-e", "127.0.0.1", "-r", strconv.Itoa(peerPort),
				"-p", strconv.Itoa(int(tc.srv.Addrs().UDP.Port())), "-n", "20", "-l", "200", "-m", "2", "-z", "5"}
			args = append(append(args, tc.flags...), "127.0.0.1")
			out, err := runTool(t, 60*time.Second, "turnutils_uclient", args...)
			if err != nil {
				t.Fatalf("turnutils_uclient: %v\n%s", err, out)
			}
			want := "tot_send_msgs=" + strconv.Itoa(tc.msgs) + ", tot_recv_msgs=" + strconv.Itoa(tc.msgs)
			if !strings.Contains(out, want) || !strings.Contains(out, "Total lost packets 0 ") {
				t.Fatalf("want %q and no loss in:\n%s", want, out)
			}
		})
	}
	t.Run("wrong secret", func(t *testing.T) {
		t.Parallel()
		before := testutil.ToFloat64(open.m.auth[authBadIntegrity])
		out, err := runTool(t, 30*time.Second, "turnutils_uclient", "-W", "not the secret", "-u", "uclient",
			"-e", "127.0.0.1", "-r", strconv.Itoa(peerPort), "-p", strconv.Itoa(int(open.Addrs().UDP.Port())),
			"-n", "5", "-m", "1", "-c", "127.0.0.1")
		if err == nil || !strings.Contains(out, "Cannot complete Allocation") {
			t.Fatalf("a wrong secret was not refused: %v\n%s", err, out)
		}
		if testutil.ToFloat64(open.m.auth[authBadIntegrity]) <= before {
			t.Error("no bad_integrity counted")
		}
	})
}
