package call_test

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/noomrtc/noom/signaling/call"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
)

// listModel is a subscriber's copy of the room list, kept up to date from
// the pushes as the home page does.
type listModel struct {
	v      int64
	total  int
	rooms  map[string]int
	pushes []json.RawMessage // every push applied, as received
}

type listPush struct {
	V     int64           `json:"v"`
	Total int             `json:"total"`
	Set   []call.RoomSize `json:"set"`
	Del   []string        `json:"del"`
}

// subscribe subscribes c to the room list and returns the list of the ack.
func subscribe(t *testing.T, c *sioclient.Client) *listModel {
	t.Helper()
	a := mustOK(t, do(t, c, "rooms:subscribe", map[string]any{}))
	m := &listModel{v: a.V, total: a.Total, rooms: map[string]int{}}
	for _, r := range a.Rooms {
		m.rooms[r.Name] = r.Size
	}
	return m
}

// apply applies one push; pushes the ack already covered are skipped, and
// a gap in versions fails the test.
func (m *listModel) apply(t *testing.T, raw json.RawMessage) {
	t.Helper()
	var p listPush
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("rooms push %s: %v", raw, err)
	}
	if p.V <= m.v {
		return
	}
	if p.V != m.v+1 {
		t.Fatalf("rooms push v%d after v%d: a change was lost", p.V, m.v)
	}
	for _, r := range p.Set {
		m.rooms[r.Name] = r.Size
	}
	for _, name := range p.Del {
		delete(m.rooms, name)
	}
	m.v, m.total = p.V, p.Total
	m.pushes = append(m.pushes, raw)
}

// waitList applies pushes until the list is want.
func waitList(t *testing.T, c *sioclient.Client, m *listModel, want map[string]int) {
	t.Helper()
	for !maps.Equal(m.rooms, want) {
		ev, err := c.Next(ctx(t), "rooms")
		if err != nil {
			t.Fatalf("waiting for rooms %v (have %v): %v", want, m.rooms, err)
		}
		m.apply(t, ev.Args[0])
	}
}

// noEventBefore reads c's events up to the next sentinel event and fails
// if one named forbidden comes first. Events are delivered in order, so a
// sentinel sent after the action under test bounds the wait: whatever the
// action caused is already queued ahead of it.
func noEventBefore(t *testing.T, c *sioclient.Client, forbidden, sentinel string) sioclient.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("connection closed before %q", sentinel)
			}
			if ev.Name == forbidden {
				t.Fatalf("got %q %s before %q", forbidden, ev.Args, sentinel)
			}
			if ev.Name == sentinel {
				return ev
			}
		case <-ctx(t).Done():
			t.Fatalf("no %q event", sentinel)
		}
	}
}
