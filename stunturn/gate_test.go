package stunturn

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestBadCredentials: refused credentials get 401 (pion alone answers
// 400), counted by reason; the pion client sees the 401.
func TestBadCredentials(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{})
	past := NewIssuer([]byte("test secret"), time.Minute)
	past.now = func() time.Time { return time.Now().Add(-time.Hour) }
	expiredUser, expiredPass, _ := past.Issue("bob")
	goodUser, _, _ := srv.Issuer().Issue("bob")

	tests := []struct {
		name, username, password string
		realm                    string // "" means the server's
		want                     authResult
	}{
		{"expired", expiredUser, expiredPass, "", authExpired},
		{"wrong password", goodUser, "not the password", "", authBadIntegrity},
		{"other secret", goodUser, NewIssuer([]byte("other"), time.Hour).Password(goodUser), "", authBadIntegrity},
		{"not a REST username", "bob", "whatever", "", authUnknown},
		{"other realm", goodUser, srv.Issuer().Password(goodUser), "elsewhere", authUnknown},
	}
	for _, tc := range tests {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(tc.name+"/"+network, func(t *testing.T) {
				before := testutil.ToFloat64(srv.m.auth[tc.want])
				beforeFail := testutil.ToFloat64(srv.m.allocFailures[allocFailAuth])
				s := newSession(dialRaw(t, network, srv.Addrs().UDP.String()), tc.username, tc.password)
				if tc.realm != "" {
					s.realm = tc.realm
				}
				res := s.allocate()
				wantCode(t, res, stun.CodeUnauthorized)
				var realm stun.Realm
				var nonce stun.Nonce
				if realm.GetFrom(res) != nil || nonce.GetFrom(res) != nil || realm.String() != DefaultRealm {
					t.Errorf("401 needs REALM %q and NONCE: %v", DefaultRealm, res)
				}
				// Other methods are refused the same way.
				wantCode(t, s.request(stun.MethodCreatePermission, peerAddress("203.0.113.5", 1)), stun.CodeUnauthorized)
				if got := testutil.ToFloat64(srv.m.auth[tc.want]) - before; got != 2 {
					t.Errorf("auth{%s} grew by %v, want 2", authNames[tc.want], got)
				}
				if got := testutil.ToFloat64(srv.m.allocFailures[allocFailAuth]) - beforeFail; got != 1 {
					t.Errorf("allocation failures{auth} grew by %v, want 1", got)
				}
			})
		}
	}

	t.Run("pion client", func(t *testing.T) {
		c := dialTURN(t, srv, "udp", expiredUser, expiredPass)
		_, err := c.Allocate()
		var te *stun.TurnError
		if !errors.As(err, &te) || te.ErrorCodeAttr.Code != stun.CodeUnauthorized {
			t.Fatalf("allocate with an expired credential: %v, want a 401", err)
		}
	})
	if n := len(srv.Allocations()); n != 0 {
		t.Errorf("%d allocations after refusals", n)
	}
}

// TestForbiddenPeers: with the default filter every peer in a private,
// loopback, link-local, CGNAT, multicast or unspecified range (and their
// IPv4-mapped forms) is refused with 403 in CreatePermission and
// ChannelBind, and dropped in Send; the server's own relayed addresses are
// accepted.
func TestForbiddenPeers(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{})
	username, password, _ := srv.Issuer().Issue("carol")
	s := newSession(dialRaw(t, "udp", srv.Addrs().UDP.String()), username, password)
	own := relayedAddress(t, s.allocate())

	// A second client's relayed address: clients of one server relay to
	// each other through it.
	s2 := newSession(dialRaw(t, "udp", srv.Addrs().UDP.String()), username, password)
	other := relayedAddress(t, s2.allocate())

	forbidden := []struct {
		ip     string
		reason denyReason
	}{
		{"127.0.0.2", denyLoopback},
		{"127.255.255.254", denyLoopback},
		{"10.1.2.3", denyPrivate},
		{"172.16.0.1", denyPrivate},
		{"172.31.255.255", denyPrivate},
		{"192.168.1.1", denyPrivate},
		{"169.254.169.254", denyLinkLocal},
		{"169.254.0.1", denyLinkLocal},
		{"100.64.0.1", denyCGNAT},
		{"100.127.255.254", denyCGNAT},
		{"224.0.0.1", denyMulticast},
		{"239.255.255.250", denyMulticast},
		{"0.0.0.0", denyUnspecified},
		{"0.1.2.3", denyUnspecified},
		{"240.0.0.1", denyReserved},
		{"255.255.255.255", denyReserved},
		{"::", denyUnspecified},
		{"::1", denyLoopback},
		{"fe80::1", denyLinkLocal},
		{"fc00::1", denyPrivate},
		{"fd00:ec2::254", denyPrivate},
		{"ff02::1", denyMulticast},
		{"::ffff:127.0.0.1", denyNone}, // own relay IP, mapped: allowed below
		{"::ffff:10.0.0.1", denyPrivate},
		{"::ffff:169.254.169.254", denyLinkLocal},
		{"::ffff:192.168.0.1", denyPrivate},
		{"::ffff:100.64.1.1", denyCGNAT},
		{"198.18.0.1", denySpecial},
		{"192.0.2.1", denySpecial},
		{"203.0.113.5", denySpecial},
		{"2001:db8::1", denySpecial},
		{"64:ff9b::10.0.0.1", denyPrivate}, // NAT64 would reach 10.0.0.1
	}
	for _, tc := range forbidden {
		if tc.reason == denyNone {
			continue
		}
		t.Run(tc.ip, func(t *testing.T) {
			before := testutil.ToFloat64(srv.m.peersDenied[tc.reason])
			wantCode(t, s.request(stun.MethodCreatePermission, peerAddress(tc.ip, 5000)), stun.CodeForbidden)
			wantCode(t, s.request(stun.MethodChannelBind, peerAddress(tc.ip, 5000), channelNumber(0x4001)), stun.CodeForbidden)
			send := mustBuild(t, stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
				peerAddress(tc.ip, 5000), rawAttr{stun.AttrData, []byte("x")})
			_, _ = s.conn.Write(send.Raw)
			eventually(t, "3 denials", func() bool {
				return testutil.ToFloat64(srv.m.peersDenied[tc.reason])-before == 3
			})
		})
	}

	t.Run("IPv6 public peer", func(t *testing.T) {
		// Relays are IPv4: 443 Peer Address Family Mismatch.
		wantCode(t, s.request(stun.MethodCreatePermission, peerAddress("2606:4700::1111", 5000)), stun.CodePeerAddrFamilyMismatch)
	})
	t.Run("one bad peer spoils the request", func(t *testing.T) {
		wantCode(t, s.request(stun.MethodCreatePermission,
			peerAddress("8.8.8.8", 5000), peerAddress("10.0.0.1", 5000)), stun.CodeForbidden)
		if n := len(srv.Allocations()[0].Permissions); n != 0 {
			t.Errorf("%d permissions after a refused request", n)
		}
	})
	t.Run("own relayed addresses", func(t *testing.T) {
		wantSuccess(t, s.request(stun.MethodCreatePermission, peerAddress(other.Addr().String(), int(other.Port()))))
		wantSuccess(t, s.request(stun.MethodCreatePermission, peerAddress(own.Addr().String(), int(own.Port()))))
		wantSuccess(t, s.request(stun.MethodCreatePermission, peerAddress("::ffff:"+other.Addr().String(), 1)))
		wantSuccess(t, s.request(stun.MethodChannelBind, peerAddress(other.Addr().String(), int(other.Port())), channelNumber(0x4000)))
	})
	t.Run("public peer", func(t *testing.T) {
		// A permission sends nothing.
		wantSuccess(t, s.request(stun.MethodCreatePermission, peerAddress("8.8.8.8", 5000)))
	})
}

// TestOwnAddressPorts: a relay may reach another relay of this server, but
// no other port of the server's addresses (the TURN port itself, or any
// other service), even though the relay IP is permitted.
func TestOwnAddressPorts(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{})
	username, password, _ := srv.Issuer().Issue("dave")
	c := dialTURN(t, srv, "udp", username, password)
	relay := c.allocate(t)
	victim, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	before := testutil.ToFloat64(srv.m.peersDenied[denyOwnAddress])
	turnPort := net.UDPAddrFromAddrPort(netip.AddrPortFrom(srv.Addrs().Relay, srv.Addrs().UDP.Port()))
	for range 3 {
		if _, err := relay.WriteTo([]byte("to a local service"), victim.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if _, err := relay.WriteTo([]byte("to the TURN port"), turnPort); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "6 denials", func() bool {
		return testutil.ToFloat64(srv.m.peersDenied[denyOwnAddress])-before == 6
	})
	// The server counts a denial instead of sending, so whatever it would
	// have sent is on loopback before a marker sent now: the first
	// datagram the local service gets must be the marker.
	marker, err := net.DialUDP("udp4", nil, victim.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer marker.Close()
	if _, err := marker.Write([]byte("marker")); err != nil {
		t.Fatal(err)
	}
	_ = victim.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	if n, from, err := victim.ReadFrom(buf); err != nil || string(buf[:n]) != "marker" {
		t.Fatalf("a local service got %q from %v (%v) through a relay, want only the marker", buf[:n], from, err)
	}
}

// TestAllocationErrors covers answers pion gets wrong without the gate.
func TestAllocationErrors(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{AllowPeers: loopback, MaxPermissions: 2})
	username, password, _ := srv.Issuer().Issue("erin")
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			s := newSession(dialRaw(t, network, srv.Addrs().UDP.String()), username, password)

			// No allocation yet: 437 (pion: no answer at all).
			wantCode(t, s.request(stun.MethodRefresh, lifetime(time.Minute)), stun.CodeAllocMismatch)
			wantCode(t, s.request(stun.MethodCreatePermission, peerAddress("127.0.0.1", 1)), stun.CodeAllocMismatch)
			wantCode(t, s.request(stun.MethodChannelBind, peerAddress("127.0.0.1", 1), channelNumber(0x4000)), stun.CodeAllocMismatch)

			// TCP relays (RFC 6062) are not offered: 442 (pion: a UDP relay).
			wantCode(t, s.request(stun.MethodAllocate, requestedTransport(6)), stun.CodeUnsupportedTransProto)
			// IPv6 relays are not offered: 440 (pion: an IPv4 relay).
			wantCode(t, s.allocate(rawAttr{stun.AttrRequestedAddressFamily, []byte{2, 0, 0, 0}}), stun.CodeAddrFamilyNotSupported)
			// No REQUESTED-TRANSPORT: pion's 400.
			wantCode(t, s.request(stun.MethodAllocate), stun.CodeBadRequest)

			wantSuccess(t, s.allocate(rawAttr{stun.AttrRequestedAddressFamily, []byte{1, 0, 0, 0}}))
			// A second Allocate on the same 5-tuple: 437.
			wantCode(t, s.allocate(), stun.CodeAllocMismatch)

			// MaxPermissions: 2 peers, a third is 508; refreshing is fine.
			wantSuccess(t, s.request(stun.MethodCreatePermission, peerAddress("127.0.0.1", 1), peerAddress("127.0.0.2", 1)))
			wantCode(t, s.request(stun.MethodCreatePermission, peerAddress("127.0.0.3", 1)), stun.CodeInsufficientCapacity)
			wantSuccess(t, s.request(stun.MethodCreatePermission, peerAddress("127.0.0.2", 9)))
			wantSuccess(t, s.request(stun.MethodChannelBind, peerAddress("127.0.0.1", 1), channelNumber(0x4000)))
			wantSuccess(t, s.request(stun.MethodChannelBind, peerAddress("127.0.0.1", 2), channelNumber(0x4001)))
			wantCode(t, s.request(stun.MethodChannelBind, peerAddress("127.0.0.2", 2), channelNumber(0x4002)), stun.CodeInsufficientCapacity)

			wantSuccess(t, s.request(stun.MethodRefresh, lifetime(time.Minute)))
			wantSuccess(t, s.request(stun.MethodRefresh, lifetime(0)))
			wantCode(t, s.request(stun.MethodRefresh, lifetime(0)), stun.CodeAllocMismatch)
		})
	}
}

// TestQuota: per-user and total allocation quotas answer 486 and free up
// when allocations end.
func TestQuota(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{UserQuota: 2, TotalQuota: 3})
	addr := srv.Addrs().UDP.String()
	alloc := func(user string) (*session, *stun.Message) {
		u, p, _ := srv.Issuer().Issue(user)
		s := newSession(dialRaw(t, "udp", addr), u, p)
		return s, s.allocate()
	}
	a1, res := alloc("ann")
	wantSuccess(t, res)
	_, res = alloc("ann")
	wantSuccess(t, res)
	_, res = alloc("ann") // third of ann's: user quota
	wantCode(t, res, stun.CodeAllocQuotaReached)
	_, res = alloc("ben")
	wantSuccess(t, res)
	_, res = alloc("ben") // fourth in all: total quota
	wantCode(t, res, stun.CodeAllocQuotaReached)
	if got := testutil.ToFloat64(srv.m.allocFailures[allocFailQuota]); got != 2 {
		t.Errorf("allocation failures{quota} = %v, want 2", got)
	}

	wantSuccess(t, a1.request(stun.MethodRefresh, lifetime(0)))
	_, res = alloc("ben")
	wantSuccess(t, res)
	if n := len(srv.Allocations()); n != 3 {
		t.Errorf("%d allocations, want 3", n)
	}
	srv.st.mu.Lock()
	total, reserved := srv.st.total, len(srv.st.reserved)
	srv.st.mu.Unlock()
	if total != 3 || reserved != 0 {
		t.Errorf("quota accounts: total %d, reservations %d; want 3, 0", total, reserved)
	}
}

// TestTCPIdle: a TCP connection without an allocation is closed after
// TCPIdleTimeout; one with an allocation stays.
func TestTCPIdle(t *testing.T) {
	checkLeaks(t)
	const idle = 300 * time.Millisecond
	srv, _ := newTestServer(t, Config{TCPIdleTimeout: idle})
	addr := srv.Addrs().TCP.String()

	quiet := dialRaw(t, "tcp", addr)
	wantSuccess(t, quiet.do(mustBuild(t, stun.TransactionID, stun.BindingRequest)))
	start := time.Now()
	_ = quiet.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := quiet.conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("read data from an idle connection")
	} else if el := time.Since(start); el < idle/2 || el > 3*time.Second {
		t.Fatalf("idle connection closed after %v (%v), want about %v", el, err, idle)
	}
	if got := testutil.ToFloat64(srv.m.connDrops[connDropIdle]); got != 1 {
		t.Errorf("connection drops{idle} = %v, want 1", got)
	}

	username, password, _ := srv.Issuer().Issue("fay")
	busy := newSession(dialRaw(t, "tcp", addr), username, password)
	wantSuccess(t, busy.allocate())
	// A quiet connection opened after the allocation: once the server
	// has closed it, the allocation's connection has been as silent for
	// longer than the idle time.
	witness := dialRaw(t, "tcp", addr)
	readClosed(t, witness.conn)
	wantSuccess(t, busy.request(stun.MethodRefresh, lifetime(time.Minute)))
	// Deallocating brings the idle timer back.
	wantSuccess(t, busy.request(stun.MethodRefresh, lifetime(0)))
	_ = busy.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := busy.conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("read data from an idle connection")
	}
	eventually(t, "no connections", func() bool { return srv.st.counts().connections[transportTCP] == 0 })
}

// TestConnectionLimit: connections over MaxConnections are closed at once.
func TestConnectionLimit(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{MaxConnections: 2})
	addr := srv.Addrs().TCP.String()
	for range 2 {
		c := dialRaw(t, "tcp", addr)
		wantSuccess(t, c.do(mustBuild(t, stun.TransactionID, stun.BindingRequest)))
	}
	third := dialRaw(t, "tcp", addr)
	_ = third.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := third.conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("the third connection was served")
	}
	if got := testutil.ToFloat64(srv.m.connDrops[connDropLimit]); got != 1 {
		t.Errorf("connection drops{limit} = %v, want 1", got)
	}
}

// TestBadFrames: a TCP stream that is neither STUN nor ChannelData is
// closed; a UDP datagram of junk is ignored.
func TestBadFrames(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{})
	c := dialRaw(t, "tcp", srv.Addrs().TCP.String())
	if _, err := fmt.Fprint(c.conn, "GET / HTTP/1.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("junk was answered")
	}
	eventually(t, "a bad_frame drop", func() bool {
		return testutil.ToFloat64(srv.m.connDrops[connDropBadFrame]) == 1
	})

	u := dialRaw(t, "udp", srv.Addrs().UDP.String())
	_, _ = u.conn.Write([]byte("junk that is not STUN at all"))
	wantSuccess(t, u.do(mustBuild(t, stun.TransactionID, stun.BindingRequest)))
}

// TestRelayPortRange: relays take ports from the range; when it is used
// up, Allocate gets 508 and the failure is counted as capacity.
func TestRelayPortRange(t *testing.T) {
	checkLeaks(t)
	port := uint16(freeUDPPort(t))
	srv, _ := newTestServer(t, Config{RelayPortMin: port, RelayPortMax: port})
	u, p, _ := srv.Issuer().Issue("gus")
	first := newSession(dialRaw(t, "udp", srv.Addrs().UDP.String()), u, p)
	if got := relayedAddress(t, first.allocate()).Port(); got != port {
		t.Fatalf("relay port %d, want %d", got, port)
	}
	second := newSession(dialRaw(t, "udp", srv.Addrs().UDP.String()), u, p)
	wantCode(t, second.allocate(), stun.CodeInsufficientCapacity)
	if got := testutil.ToFloat64(srv.m.allocFailures[allocFailCapacity]); got != 1 {
		t.Errorf("allocation failures{capacity} = %v, want 1", got)
	}
	wantSuccess(t, first.request(stun.MethodRefresh, lifetime(0)))
	wantSuccess(t, second.allocate())
}
