package stunturn

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// recorder collects observer events on buffered channels. Each hook also
// reads the server (Counts, Allocations), which would deadlock if a hook
// ran under the server's lock.
type recorder struct {
	created, refreshed, deleted chan AllocationInfo
	perms                       chan PermissionEvent
	auth                        chan AuthEvent
	denied                      chan PeerDeniedEvent
}

func newRecorder() *recorder {
	const n = 1024
	return &recorder{
		created: make(chan AllocationInfo, n), refreshed: make(chan AllocationInfo, n),
		deleted: make(chan AllocationInfo, n), perms: make(chan PermissionEvent, n),
		auth: make(chan AuthEvent, n), denied: make(chan PeerDeniedEvent, n),
	}
}

func (r *recorder) observer(srv *Server) Observer {
	return Observer{
		AllocationCreated:   func(i AllocationInfo) { record(srv, r.created, i) },
		AllocationRefreshed: func(i AllocationInfo) { record(srv, r.refreshed, i) },
		AllocationDeleted:   func(i AllocationInfo) { record(srv, r.deleted, i) },
		PermissionCreated:   func(e PermissionEvent) { record(srv, r.perms, e) },
		AuthFailed:          func(e AuthEvent) { record(srv, r.auth, e) },
		PeerDenied:          func(e PeerDeniedEvent) { record(srv, r.denied, e) },
	}
}

// record reads the server, then queues e without blocking, as a hook must;
// a full queue means a test that forgot to read it.
func record[E any](srv *Server, ch chan E, e E) {
	_ = srv.Counts()
	_ = srv.Allocations()
	select {
	case ch <- e:
	default:
		panic("recorder queue full")
	}
}

func next[E any](t testing.TB, what string, ch <-chan E) E {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s event", what)
		panic("unreachable")
	}
}

// none checks that ch holds no event. Hooks run synchronously and in the
// order they were added, so once a later observer has seen an event, an
// earlier one would have too.
func none[E any](t testing.TB, what string, ch <-chan E) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("unexpected %s event %+v", what, e)
	default:
	}
}

// TestObserver follows one allocation's life through the hooks, with
// Counts along the way, and checks that a removed observer hears nothing.
func TestObserver(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{AllowPeers: loopback})
	early, late := newRecorder(), newRecorder()
	removeEarly := srv.Observe(early.observer(srv))
	srv.Observe(late.observer(srv))
	peer := newEchoPeer(t)

	username, password, _ := srv.Issuer().Issue("olive")
	c := dialTURN(t, srv, "udp", username, password)
	relay := c.allocate(t)
	for _, r := range []*recorder{early, late} {
		got := next(t, "created", r.created)
		if got.User != "olive" || got.Transport != "udp" || got.Relay.String() != relay.LocalAddr().String() {
			t.Fatalf("created %+v", got)
		}
	}
	if n := srv.Counts(); n.Allocations != (TransportCounts{UDP: 1}) || n.Allocations.Total() != 1 {
		t.Fatalf("counts %+v", n)
	}

	roundTrip(t, relay, peer.addr(), []byte("observed"))
	perm := next(t, "permission", late.perms)
	if perm.Peer != netip.MustParseAddr("127.0.0.1") || perm.Allocation.User != "olive" || len(perm.Allocation.Permissions) != 1 {
		t.Fatalf("permission %+v", perm)
	}
	next(t, "permission", early.perms)
	if n := srv.Counts(); n.Permissions != 1 {
		t.Fatalf("counts %+v", n)
	}

	// A refresh, from a raw client with its own allocation.
	s := newSession(dialRaw(t, "udp", srv.Addrs().UDP.String()), username, password)
	wantSuccess(t, s.allocate())
	next(t, "created", late.created)
	next(t, "created", early.created)
	wantSuccess(t, s.request(stun.MethodRefresh, lifetime(time.Minute)))
	if got := next(t, "refreshed", late.refreshed); got.Client.String() != s.conn.LocalAddr().String() {
		t.Fatalf("refreshed %+v", got)
	}
	next(t, "refreshed", early.refreshed)

	// A refused peer, then refused credentials.
	wantCode(t, s.request(stun.MethodCreatePermission, peerAddress("10.0.0.1", 1)), stun.CodeForbidden)
	d := next(t, "peer denied", late.denied)
	if d.User != "olive" || d.Peer != netip.MustParseAddr("10.0.0.1") || d.Reason != "private" || d.Client.String() != s.conn.LocalAddr().String() {
		t.Fatalf("peer denied %+v", d)
	}
	next(t, "peer denied", early.denied)
	bad := newSession(dialRaw(t, "tcp", srv.Addrs().TCP.String()), username, "wrong")
	wantCode(t, bad.allocate(), stun.CodeUnauthorized)
	a := next(t, "auth failed", late.auth)
	if a.User != "olive" || a.Username != username || a.Reason != AuthBadIntegrity || a.Transport != "tcp" || a.Method != "allocate" {
		t.Fatalf("auth failed %+v", a)
	}
	next(t, "auth failed", early.auth)

	// Removed: the early observer hears no more.
	removeEarly()
	removeEarly() // twice is harmless
	if err := relay.Close(); err != nil {
		t.Fatal(err)
	}
	del := next(t, "deleted", late.deleted)
	if del.User != "olive" || del.PacketsToPeer < 1 || del.PacketsToClient < 1 || del.BytesToPeer < uint64(len("observed")) || del.Age <= 0 {
		t.Fatalf("deleted %+v", del)
	}
	none(t, "deleted", early.deleted)
	wantSuccess(t, s.request(stun.MethodRefresh, lifetime(0)))
	next(t, "deleted", late.deleted)
	none(t, "refreshed", late.refreshed) // LIFETIME 0 deletes, it does not refresh
	if n := srv.Counts(); n.Allocations.Total() != 0 || n.Permissions != 0 {
		t.Fatalf("counts after deletion %+v", n)
	}
}

// TestEndAllocation: the admin's "end" ends UDP and TCP allocations
// through pion's own deletion path; the client's next Refresh gets 437.
func TestEndAllocation(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{})
	rec := newRecorder()
	srv.Observe(rec.observer(srv))
	username, password, _ := srv.Issuer().Issue("ed")
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			s := newSession(dialRaw(t, network, srv.Addrs().UDP.String()), username, password)
			wantSuccess(t, s.allocate())
			info := next(t, "created", rec.created)
			if !srv.EndAllocation(info.Transport, info.Client, info.Server) {
				t.Fatal("EndAllocation found nothing")
			}
			if got := next(t, "deleted", rec.deleted); got.Client != info.Client {
				t.Fatalf("deleted %+v, want %+v", got, info)
			}
			if n := srv.Counts(); n.Allocations.Total() != 0 {
				t.Fatalf("counts %+v", n)
			}
			wantCode(t, s.request(stun.MethodRefresh, lifetime(time.Minute)), stun.CodeAllocMismatch)
			if srv.EndAllocation(info.Transport, info.Client, info.Server) {
				t.Fatal("EndAllocation ended a deleted allocation")
			}
			// The quota slot came back: the same client allocates again.
			wantSuccess(t, s.allocate())
			next(t, "created", rec.created)
			wantSuccess(t, s.request(stun.MethodRefresh, lifetime(0)))
			next(t, "deleted", rec.deleted)
		})
	}
}
