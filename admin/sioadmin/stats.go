package sioadmin

import (
	"os"
	"sync"
	"time"

	"github.com/noomrtc/noom/signaling"
)

// aggregatedEvent is one 1-second bucket of server_stats' aggregatedEvents.
type aggregatedEvent struct {
	Timestamp int64  `json:"timestamp"` // epoch ms, a whole second
	Type      string `json:"type"`
	SubType   string `json:"subType,omitempty"`
	Count     uint64 `json:"count"`
}

type bucketKey struct {
	sec          int64
	typ, subType string
}

// maxBuckets bounds the buckets kept between two drains (reasons are a
// closed set, so this is never reached in practice).
const maxBuckets = 4096

// buckets counts events per second, type and sub-type until drained.
type buckets struct {
	mu sync.Mutex
	// mu guards m.
	m map[bucketKey]uint64
}

func newBuckets() *buckets { return &buckets{m: map[bucketKey]uint64{}} }

func (b *buckets) add(t time.Time, typ, subType string, n uint64) {
	if n == 0 {
		return
	}
	k := bucketKey{sec: t.Unix(), typ: typ, subType: subType}
	b.mu.Lock()
	if _, ok := b.m[k]; ok || len(b.m) < maxBuckets {
		b.m[k] += n
	}
	b.mu.Unlock()
}

// drain returns the buckets, oldest first, and forgets them.
func (b *buckets) drain() []aggregatedEvent {
	b.mu.Lock()
	m := b.m
	b.m = make(map[bucketKey]uint64, len(m))
	b.mu.Unlock()
	out := make([]aggregatedEvent, 0, len(m))
	for k, n := range m {
		out = append(out, aggregatedEvent{Timestamp: k.sec * 1000, Type: k.typ, SubType: k.subType, Count: n})
	}
	sortAggregated(out)
	return out
}

func sortAggregated(out []aggregatedEvent) {
	for i := 1; i < len(out); i++ { // few items: insertion sort
		for j := i; j > 0 && lessAggregated(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
}

func lessAggregated(x, y aggregatedEvent) bool {
	if x.Timestamp != y.Timestamp {
		return x.Timestamp < y.Timestamp
	}
	if x.Type != y.Type {
		return x.Type < y.Type
	}
	return x.SubType < y.SubType
}

type namespaceDetails struct {
	Name         string `json:"name"`
	SocketsCount int    `json:"socketsCount"`
}

// serverStats is the server_stats event.
type serverStats struct {
	ServerID            string             `json:"serverId"`
	Hostname            string             `json:"hostname"`
	PID                 int                `json:"pid"`
	Uptime              float64            `json:"uptime"` // seconds
	ClientsCount        int                `json:"clientsCount"`
	PollingClientsCount int                `json:"pollingClientsCount"`
	AggregatedEvents    []aggregatedEvent  `json:"aggregatedEvents"`
	Namespaces          []namespaceDetails `json:"namespaces"`
}

var hostname, _ = os.Hostname()

// stats makes server_stats from the hub's counts, with agg as its
// aggregated events.
func (a *Admin) stats(st signaling.Stats, agg []aggregatedEvent) serverStats {
	out := serverStats{ServerID: a.cfg.ServerID, Hostname: hostname, PID: os.Getpid(),
		Uptime:       a.cfg.Now().Sub(st.Started).Seconds(),
		ClientsCount: st.Sessions, PollingClientsCount: st.Polling,
		AggregatedEvents: agg, Namespaces: make([]namespaceDetails, 0, len(st.Namespaces))}
	if out.AggregatedEvents == nil {
		out.AggregatedEvents = []aggregatedEvent{}
	}
	for _, n := range st.Namespaces {
		if n.Name == "" {
			continue // the parent of dynamic namespaces
		}
		out.Namespaces = append(out.Namespaces, namespaceDetails{Name: n.Name, SocketsCount: n.Sockets})
	}
	return out
}

// sample turns the hub's counters into 1-second buckets every second and
// hands server_stats to every admin socket every StatsInterval, until
// Close.
func (a *Admin) sample() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	prev := a.srv.Stats()
	every := int(a.cfg.StatsInterval / time.Second)
	for n := 1; ; n++ {
		select {
		case <-a.done:
			return
		case <-tick.C:
		}
		st := a.srv.Stats()
		at := a.cfg.Now().Add(-500 * time.Millisecond) // the second the deltas mostly fell in
		a.buckets.add(at, "packetsIn", "", st.PacketsIn-prev.PacketsIn)
		a.buckets.add(at, "packetsOut", "", st.PacketsOut-prev.PacketsOut)
		a.buckets.add(at, "bytesIn", "", st.BytesIn-prev.BytesIn)
		a.buckets.add(at, "bytesOut", "", st.BytesOut-prev.BytesOut)
		prev = st
		if n%every != 0 {
			continue
		}
		agg := a.buckets.drain()
		base := a.stats(st, agg)
		admins := a.list()
		for _, ac := range admins {
			ac.setStats(base)
		}
		a.tellOtherNodes(base, admins)
	}
}

// tellOtherNodes broadcasts server_stats to the admin sockets of the other
// nodes of a cluster (through the namespace's adapter, as instrument()'s
// adminNamespace.emit does), so that a UI on any node lists every server.
// This node's own admins get theirs from setStats, with what each of
// them skipped; with a single node the broadcast reaches nobody.
func (a *Admin) tellOtherNodes(base serverStats, local []*adminConn) {
	ids := make([]string, len(local))
	for i, ac := range local {
		ids[i] = ac.s.ID()
	}
	a.srv.Of(a.cfg.Namespace).Except(ids...).Emit("server_stats", base)
}
