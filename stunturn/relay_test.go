package stunturn

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestRelay runs pion/turn clients over UDP and TCP through allocations,
// permissions, channels and data to an echo peer on loopback.
func TestRelay(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			checkLeaks(t)
			srv, reg := newTestServer(t, Config{AllowPeers: loopback})
			peer := newEchoPeer(t)
			username, password, _ := srv.Issuer().Issue("alice")
			c := dialTURN(t, srv, network, username, password)

			mapped, err := c.SendBindingRequest()
			if err != nil {
				t.Fatalf("binding: %v", err)
			}
			if local := c.conn.LocalAddr().String(); mapped.String() != local {
				t.Errorf("mapped address %v, want %v", mapped, local)
			}

			relay := c.allocate(t)
			relayAP := netip.MustParseAddrPort(relay.LocalAddr().String())
			if relayAP.Addr() != srv.Addrs().Relay {
				t.Errorf("relayed address %v, want IP %v", relayAP, srv.Addrs().Relay)
			}
			// The first write goes as a Send indication and starts the
			// channel binding; later ones go as ChannelData.
			const rounds = 50
			for i := range rounds {
				roundTrip(t, relay, peer.addr(), fmt.Appendf(nil, "hello %d", i))
			}
			// The echo can overtake the counting of the datagram it answers.
			eventually(t, "a channel binding and the counts", func() bool {
				allocs := srv.Allocations()
				return len(allocs) == 1 && allocs[0].Channels == 1 &&
					allocs[0].PacketsToPeer >= rounds && allocs[0].PacketsToClient >= rounds
			})

			allocs := srv.Allocations()
			if len(allocs) != 1 {
				t.Fatalf("%d allocations, want 1", len(allocs))
			}
			a := allocs[0]
			if a.User != "alice" || a.Username != username || a.Transport != network || a.Relay != relayAP {
				t.Errorf("allocation %+v", a)
			}
			if a.Client.String() != c.conn.LocalAddr().String() {
				t.Errorf("client %v, want %v", a.Client, c.conn.LocalAddr())
			}
			if len(a.Permissions) != 1 || a.Permissions[0] != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("permissions %v", a.Permissions)
			}
			if a.PacketsToPeer < rounds || a.PacketsToClient < rounds || a.BytesToPeer < a.PacketsToPeer*7 {
				t.Errorf("counters %+v", a)
			}
			if got := testutil.ToFloat64(srv.m.relayPackets[dirToClient]); got != float64(a.PacketsToClient) {
				t.Errorf("peer_to_client packets metric %v, snapshot %d", got, a.PacketsToClient)
			}
			if got := testutil.ToFloat64(srv.m.requests[transportOf(network)][methodBinding][resultSuccess]); got != 1 {
				t.Errorf("binding successes %v, want 1", got)
			}
			if got := testutil.ToFloat64(srv.m.requests[transportOf(network)][methodAllocate][resultSuccess]); got != 1 {
				t.Errorf("allocate successes %v, want 1", got)
			}
			if got := testutil.ToFloat64(srv.m.auth[authOK]); got < 2 {
				t.Errorf("auth ok %v, want at least 2 (Allocate, CreatePermission)", got)
			}
			wantGauges(t, reg, map[string]float64{
				`noom_turn_allocations{transport="` + network + `"}`: 1,
				"noom_turn_permissions":                              1,
				"noom_turn_channels":                                 1,
			})

			// Closing the relay conn deallocates (Refresh with lifetime 0).
			if err := relay.Close(); err != nil {
				t.Fatalf("close relay: %v", err)
			}
			eventually(t, "the allocation to end", func() bool { return len(srv.Allocations()) == 0 })
			wantGauges(t, reg, map[string]float64{
				`noom_turn_allocations{transport="` + network + `"}`: 0,
				"noom_turn_permissions":                              0,
				"noom_turn_channels":                                 0,
			})
			if n := testutil.CollectAndCount(reg, "noom_turn_allocation_lifetime_seconds"); n != 1 {
				t.Errorf("lifetime histogram series %d", n)
			}
		})
	}
}

func transportOf(network string) transport {
	switch network {
	case "tcp":
		return transportTCP
	case "tls":
		return transportTLS
	}
	return transportUDP
}

// TestRelayBetweenClients relays between two clients of the same server
// through their relayed addresses, with the default peer filter (loopback
// denied): a server's own relay addresses are always allowed.
func TestRelayBetweenClients(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{})
	ua, pa, _ := srv.Issuer().Issue("a")
	ub, pb, _ := srv.Issuer().Issue("b")
	a := dialTURN(t, srv, "udp", ua, pa)
	b := dialTURN(t, srv, "tcp", ub, pb)
	relayA := a.allocate(t)
	relayB := b.allocate(t)
	// B must permit A first; then A's datagrams reach B.
	if err := b.CreatePermission(relayA.LocalAddr()); err != nil {
		t.Fatalf("B permits A's relay: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := relayB.ReadFrom(buf)
			if err != nil {
				done <- err
				return
			}
			if _, err := relayB.WriteTo(buf[:n], from); err != nil {
				done <- err
				return
			}
		}
	}()
	for i := range 10 {
		roundTrip(t, relayA, relayB.LocalAddr(), fmt.Appendf(nil, "ping %d", i))
	}
	_ = relayB.Close()
	<-done
}

func wantGauges(t testing.TB, reg prometheus.Gatherer, want map[string]float64) {
	t.Helper()
	got := gatherFlat(t, reg)
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}
