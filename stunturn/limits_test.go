package stunturn

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// dialRawFrom is dialRaw from a chosen loopback source IP (Linux routes
// all of 127.0.0.0/8 to lo), to play a second client address.
func dialRawFrom(t testing.TB, network, from, addr string) *rawClient {
	t.Helper()
	var local net.Addr = &net.UDPAddr{IP: net.ParseIP(from)}
	if network == "tcp" {
		local = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := (&net.Dialer{LocalAddr: local}).Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawClient{t: t, conn: c, stream: network == "tcp"}
}

// TestIPQuota: one client address holds at most IPQuota allocations,
// whatever users it claims (each socket is a user, so the user quota
// alone does not bound one attacker); another address is not affected,
// and a freed slot is reusable.
func TestIPQuota(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{IPQuota: 2})
	addr := srv.Addrs().UDP.String()
	alloc := func(from, user string) (*session, *stun.Message) {
		u, p, _ := srv.Issuer().Issue(user)
		s := newSession(dialRawFrom(t, "udp", from, addr), u, p)
		return s, s.allocate()
	}
	first, res := alloc("127.0.0.1", "u1")
	wantSuccess(t, res)
	_, res = alloc("127.0.0.1", "u2")
	wantSuccess(t, res)
	_, res = alloc("127.0.0.1", "u3") // a third from one IP, a new user each time
	wantCode(t, res, stun.CodeAllocQuotaReached)
	// Over TCP from the same IP too.
	u, p, _ := srv.Issuer().Issue("u4")
	tcp := newSession(dialRawFrom(t, "tcp", "127.0.0.1", srv.Addrs().TCP.String()), u, p)
	wantCode(t, tcp.allocate(), stun.CodeAllocQuotaReached)
	_, res = alloc("127.0.0.2", "u5") // another IP
	wantSuccess(t, res)
	if got := testutil.ToFloat64(srv.m.allocFailures[allocFailQuota]); got != 2 {
		t.Errorf("allocation failures{quota} = %v, want 2", got)
	}
	wantSuccess(t, first.request(stun.MethodRefresh, lifetime(0)))
	_, res = alloc("127.0.0.1", "u6")
	wantSuccess(t, res)

	srv.st.mu.Lock()
	perIP := map[netip.Prefix]int{}
	for k, v := range srv.st.perIP {
		perIP[k] = v
	}
	reserved := len(srv.st.reserved)
	srv.st.mu.Unlock()
	want := map[netip.Prefix]int{
		netip.MustParsePrefix("127.0.0.1/32"): 2,
		netip.MustParsePrefix("127.0.0.2/32"): 1,
	}
	if len(perIP) != len(want) || perIP[netip.MustParsePrefix("127.0.0.1/32")] != 2 || perIP[netip.MustParsePrefix("127.0.0.2/32")] != 1 || reserved != 0 {
		t.Errorf("per-IP accounts %v (reservations %d), want %v", perIP, reserved, want)
	}
}

func TestIPKey(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"::1", "::/64"},
	}
	for _, tc := range tests {
		if got := ipKeyOf(netip.MustParseAddr(tc.ip)); got != netip.MustParsePrefix(tc.want) {
			t.Errorf("ipKeyOf(%s) = %v, want %s", tc.ip, got, tc.want)
		}
	}
}

// readClosed waits for the server to close c and returns how long it
// took; it fails the test if the server has not closed it in 5s.
func readClosed(t testing.TB, c net.Conn) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(5 * time.Second))
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("the server did not close the connection")
			}
			return time.Since(start)
		}
	}
}

// TestTCPConnsPerIP: one client IP holds at most MaxTCPConnsPerIP TCP
// connections; the next is closed at once, another IP still connects,
// and a closed connection frees its place.
func TestTCPConnsPerIP(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{MaxTCPConnsPerIP: 2})
	addr := srv.Addrs().TCP.String()
	binding := func(c *rawClient) { wantSuccess(t, c.do(mustBuild(t, stun.TransactionID, stun.BindingRequest))) }
	a := dialRawFrom(t, "tcp", "127.0.0.1", addr)
	binding(a)
	binding(dialRawFrom(t, "tcp", "127.0.0.1", addr))
	third := dialRawFrom(t, "tcp", "127.0.0.1", addr)
	readClosed(t, third.conn)
	if got := testutil.ToFloat64(srv.m.connDrops[connDropIPLimit]); got != 1 {
		t.Errorf("connection drops{ip_limit} = %v, want 1", got)
	}
	binding(dialRawFrom(t, "tcp", "127.0.0.2", addr))
	_ = a.conn.Close()
	eventually(t, "the closed connection to be forgotten", func() bool { return srv.Counts().Connections.TCP == 2 })
	binding(dialRawFrom(t, "tcp", "127.0.0.1", addr))
}

// TestTCPAuthTimeout: a TCP connection that keeps sending Binding
// requests but never allocates is closed TCPAuthTimeout after it opened,
// counted as unauthenticated; one with an allocation outlives that, and
// is under the timeout again once its allocation is gone.
func TestTCPAuthTimeout(t *testing.T) {
	checkLeaks(t)
	const authTimeout = 400 * time.Millisecond
	srv, _ := newTestServer(t, Config{TCPAuthTimeout: authTimeout, TCPIdleTimeout: time.Minute})
	addr := srv.Addrs().TCP.String()
	username, password, _ := srv.Issuer().Issue("tom")
	authed := newSession(dialRaw(t, "tcp", addr), username, password)
	wantSuccess(t, authed.allocate())

	// A busy connection that never authenticates, opened after the
	// allocation: it also witnesses that the timeout passed.
	busy := dialRaw(t, "tcp", addr)
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for {
			m, err := stun.Build(stun.TransactionID, stun.BindingRequest)
			if err != nil {
				done <- err
				return
			}
			if _, err := busy.conn.Write(m.Raw); err != nil {
				done <- err
				return
			}
			if _, err := busy.read(time.Now().Add(5 * time.Second)); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the server stopped answering but did not close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a busy unauthenticated connection was not closed")
	}
	if el := time.Since(start); el < authTimeout {
		t.Fatalf("closed after %v, before TCPAuthTimeout %v", el, authTimeout)
	}
	eventually(t, "an unauthenticated drop", func() bool {
		return testutil.ToFloat64(srv.m.connDrops[connDropUnauthenticated]) == 1
	})
	if got := testutil.ToFloat64(srv.m.connDrops[connDropIdle]); got != 0 {
		t.Errorf("connection drops{idle} = %v, want 0", got)
	}

	// The connection with the allocation, older than the busy one, lives.
	wantSuccess(t, authed.request(stun.MethodRefresh, lifetime(time.Minute)))
	// Deallocated, it has TCPAuthTimeout to allocate again.
	wantSuccess(t, authed.request(stun.MethodRefresh, lifetime(0)))
	readClosed(t, authed.conn)
	eventually(t, "two unauthenticated drops", func() bool {
		return testutil.ToFloat64(srv.m.connDrops[connDropUnauthenticated]) == 2
	})
}
