package stunturn

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// roster stands in for the call service's presence: who is online. It is
// a real implementation of the small function Config.Presence takes.
type roster struct {
	mu    sync.Mutex
	users map[string]bool
	srv   *Server // read in Presence, which runs without the server's locks
}

func (r *roster) set(user string, here bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users[user] = here
}

func (r *roster) present(user string) bool {
	r.mu.Lock()
	srv := r.srv
	here := r.users[user]
	r.mu.Unlock()
	if srv != nil {
		_ = srv.Counts()
	}
	return here
}

// TestPresence: TURN use follows presence. An absent user cannot
// allocate; a user who left keeps refreshing and adding permissions for
// PresenceGrace, not after; deallocating is always allowed; a user back
// in time is served again.
func TestPresence(t *testing.T) {
	checkLeaks(t)
	const grace = 300 * time.Millisecond
	r := &roster{users: map[string]bool{"here": true, "gone": false}}
	srv, _ := newTestServer(t, Config{Presence: r.present, PresenceGrace: grace, AllowPeers: loopback})
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	rec := newRecorder()
	srv.Observe(rec.observer(srv))
	addr := srv.Addrs().UDP.String()
	session := func(user string) *session {
		u, p, _ := srv.Issuer().Issue(user)
		return newSession(dialRaw(t, "udp", addr), u, p)
	}

	t.Run("absent user cannot allocate", func(t *testing.T) {
		wantCode(t, session("gone").allocate(), stun.CodeForbidden)
		e := next(t, "auth failed", rec.auth)
		if e.User != "gone" || e.Reason != AuthAbsent || e.Method != "allocate" {
			t.Fatalf("auth failed %+v", e)
		}
		if got := testutil.ToFloat64(srv.m.allocFailures[allocFailPresence]); got != 1 {
			t.Errorf("allocation failures{presence} = %v, want 1", got)
		}
		if n := srv.Counts().Allocations.Total(); n != 0 {
			t.Errorf("%d allocations", n)
		}
	})

	t.Run("grace after leaving", func(t *testing.T) {
		s := session("here")
		wantSuccess(t, s.allocate())
		left := time.Now()
		r.set("here", false)
		// Within the grace (the first look at the absence starts it).
		wantSuccess(t, s.request(stun.MethodRefresh, lifetime(time.Minute)))
		// Refused once the grace is over, and never before.
		var refused *stun.Message
		eventually(t, "a refused refresh", func() bool {
			m := s.request(stun.MethodRefresh, lifetime(time.Minute))
			if m.Type.Class == stun.ClassErrorResponse {
				refused = m
				return true
			}
			return false
		})
		if el := time.Since(left); el < grace {
			t.Fatalf("refused %v after leaving, before the grace of %v", el, grace)
		}
		wantCode(t, refused, stun.CodeForbidden)
		wantCode(t, s.request(stun.MethodCreatePermission, peerAddress("127.0.0.1", 1)), stun.CodeForbidden)
		wantCode(t, s.request(stun.MethodChannelBind, peerAddress("127.0.0.1", 1), channelNumber(0x4000)), stun.CodeForbidden)
		for range 3 {
			if e := next(t, "auth failed", rec.auth); e.Reason != AuthAbsent || e.User != "here" {
				t.Fatalf("auth failed %+v", e)
			}
		}
		// Back: served again.
		r.set("here", true)
		wantSuccess(t, s.request(stun.MethodRefresh, lifetime(time.Minute)))
		wantSuccess(t, s.request(stun.MethodCreatePermission, peerAddress("127.0.0.1", 1)))
		// Gone for good: deallocating still works.
		r.set("here", false)
		eventually(t, "a refused refresh", func() bool {
			return s.request(stun.MethodRefresh, lifetime(time.Minute)).Type.Class == stun.ClassErrorResponse
		})
		wantSuccess(t, s.request(stun.MethodRefresh, lifetime(0)))
	})

	t.Run("the sweep notices a silent client", func(t *testing.T) {
		r.set("quiet", true)
		s := session("quiet")
		wantSuccess(t, s.allocate())
		r.set("quiet", false)
		// The client says nothing; the sweep records the absence.
		var since time.Time
		eventually(t, "the sweep to record the absence", func() bool {
			srv.presence.mu.Lock()
			defer srv.presence.mu.Unlock()
			since = srv.presence.absent["quiet"]
			return !since.IsZero()
		})
		<-time.After(time.Until(since.Add(grace)))
		// Its first request after the grace is refused: without the sweep
		// it would start the grace instead.
		wantCode(t, s.request(stun.MethodRefresh, lifetime(time.Minute)), stun.CodeForbidden)
		wantSuccess(t, s.request(stun.MethodRefresh, lifetime(0)))
		// With no allocation left, the sweep forgets the user.
		eventually(t, "the absence record to go", func() bool {
			srv.presence.mu.Lock()
			defer srv.presence.mu.Unlock()
			_, ok := srv.presence.absent["quiet"]
			return !ok
		})
	})
}

// TestPresenceOff: without Presence, credentials work whoever holds them
// (the behaviour before presence existed).
func TestPresenceOff(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{})
	if srv.presence != nil {
		t.Fatal("a presence tracker without Config.Presence")
	}
	u, p, _ := srv.Issuer().Issue("anyone")
	s := newSession(dialRaw(t, "udp", srv.Addrs().UDP.String()), u, p)
	wantSuccess(t, s.allocate())
	wantSuccess(t, s.request(stun.MethodRefresh, lifetime(time.Minute)))
}
