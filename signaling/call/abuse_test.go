package call_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/noomrtc/noom/signaling/call"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus"
)

// join joins c to room as name and fails the test unless it works.
func join(t testing.TB, c *sioclient.Client, room, name string) ack {
	t.Helper()
	return mustOK(t, do(t, c, "join", map[string]any{"room": room, "name": name}))
}

// gauge reads an unlabelled gauge from the registry.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// waitFor applies c's pushes to m until cond holds.
func (m *listModel) waitFor(t *testing.T, c *sioclient.Client, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		ev, err := c.Next(ctx(t), "rooms")
		if err != nil {
			t.Fatalf("waiting for %s (list %v, total %d): %v", what, m.rooms, m.total, err)
		}
		m.apply(t, ev.Args[0])
	}
}

// TestRoomListAmplification is finding 1 of issue 11: an attacker that
// filled the list with long room names and toggled a room made the server
// send the whole list to every socket, 4 times a second. Now idle sockets
// get nothing, subscribers get at most RoomListSize rooms, and a toggle
// costs each subscriber a diff of one room.
func TestRoomListAmplification(t *testing.T) {
	const listSize = 5
	e := newEnv(t, call.Config{RoomListSize: listSize, IPCreateBurst: 100, IPJoinBurst: 200, JoinBurst: 100})
	victims := make([]*sioclient.Client, 6)
	for i := range victims {
		victims[i] = e.dial()
	}
	home, other := e.dial(), e.dial()
	list, otherList := subscribe(t, home), subscribe(t, other)

	// The attacker: 3 sockets in 4 rooms each, names as long as allowed.
	attackers := []*sioclient.Client{e.dial(), e.dial(), e.dial()}
	owner := map[string]*sioclient.Client{}
	for i, a := range attackers {
		for j := range 4 {
			name := fmt.Sprintf("%02d%s", i*4+j, strings.Repeat("é", 62))
			join(t, a, name, "x")
			owner[name] = a
		}
	}
	// A real room with two people ranks first.
	join(t, victims[0], "standup", "Ann")
	join(t, victims[1], "standup", "Bob")
	list.waitFor(t, home, "13 rooms", func() bool { return list.total == 13 && list.rooms["standup"] == 2 && len(list.rooms) == listSize })

	// Toggle one listed room 10 times: every push is a small diff.
	var toggled string
	for name := range list.rooms {
		if name != "standup" {
			toggled = name
		}
	}
	before := len(list.pushes)
	for range 10 {
		mustOK(t, do(t, owner[toggled], "leave", map[string]any{"room": toggled}))
		join(t, owner[toggled], toggled, "x")
	}
	// A fence: one more change after the toggles. Pushes go out one after
	// the other, so once the subscriber has seen the fence's push, every
	// push of the toggles was queued for everyone it went to.
	join(t, victims[2], "standup", "Cy")
	list.waitFor(t, home, "standup of 3", func() bool { return list.rooms["standup"] == 3 })
	for _, p := range list.pushes[before:] {
		if len(p) > 400 {
			t.Errorf("a push of %d bytes for a change of one room: %s", len(p), p)
		}
	}
	if n := len(list.pushes) - before; n < 1 || n > 21 {
		t.Errorf("%d pushes for 20 changes and a fence", n)
	}
	if len(list.rooms) != listSize || list.total != 13 {
		t.Errorf("list holds %d rooms of %d, want %d of 13", len(list.rooms), list.total, listSize)
	}

	// The idle sockets got no push: a chat sent now is their next event.
	join(t, victims[3], "standup", "Di")
	mustOK(t, do(t, victims[3], "chat", map[string]any{"room": "standup", "text": "sentinel"}))
	for _, v := range victims[:3] {
		noEventBefore(t, v, "rooms", "chat")
	}
	for _, v := range victims[4:] { // in no room
		join(t, v, "fence "+v.ID, "V")
		join(t, other, "fence "+v.ID, "O")
		noEventBefore(t, v, "rooms", "peer-joined")
		mustOK(t, do(t, other, "leave", map[string]any{"room": "fence " + v.ID}))
	}
	if got := gauge(t, e.reg, "noom_call_room_list_subscribers"); got != 2 {
		t.Errorf("noom_call_room_list_subscribers = %v, want 2", got)
	}

	// Unsubscribed, home gets no more pushes; the other subscriber does.
	// Pushes built before the unsubscribe may still be on their way to
	// home; the first push showing a change made after it is built after
	// it, and neither it nor any later one may reach home.
	mustOK(t, do(t, home, "rooms:unsubscribe", map[string]any{}))
	join(t, home, "home", "H")
	join(t, victims[4], "home", "V")
	otherList.waitFor(t, other, "home of 2", func() bool { return otherList.rooms["home"] == 2 })
	firstAfter := otherList.v
	join(t, victims[5], "home", "W") // the fence
	otherList.waitFor(t, other, "home of 3", func() bool { return otherList.rooms["home"] == 3 })
	mustOK(t, do(t, victims[5], "chat", map[string]any{"room": "home", "text": "sentinel"}))
	for done := false; !done; {
		select {
		case ev := <-home.Events():
			switch ev.Name {
			case "rooms":
				var p listPush
				if json.Unmarshal(ev.Args[0], &p) != nil || p.V >= firstAfter {
					t.Fatalf("push %s after unsubscribing (first push after it: v%d)", ev.Args[0], firstAfter)
				}
			case "chat":
				done = strings.Contains(string(ev.Args[0]), "sentinel")
			}
		case <-ctx(t).Done():
			t.Fatal("no sentinel")
		}
	}
	if got := gauge(t, e.reg, "noom_call_room_list_subscribers"); got != 1 {
		t.Errorf("noom_call_room_list_subscribers = %v, want 1", got)
	}
}
