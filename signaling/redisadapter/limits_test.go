package redisadapter

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMsgpackClaimsBounded: a message claiming more elements or bytes
// than it holds is malformed, found without allocating what it claims
// (msgpack's decoder alone allocated 1 GB for dd 04 00 00 00 and more
// than the machine has for dd ff ff ff ff).
func TestMsgpackClaimsBounded(t *testing.T) {
	for _, b := range [][]byte{
		{0xdd, 0xff, 0xff, 0xff, 0xff},             // array32 of 2^32-1
		{0xdf, 0xff, 0xff, 0xff, 0xff},             // map32
		{0xdc, 0xff, 0xff},                         // array16
		{0x93, 0xdd, 0x04, 0x00, 0x00, 0x00},       // nested
		{0xc6, 0xff, 0xff, 0xff, 0xff},             // bin32
		{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'},        // str32
		{0xc9, 0xff, 0xff, 0xff, 0xff, 0x01},       // ext32
		{0x92, 0x01},                               // truncated
		{0xc1},                                     // never used
		{0xd7, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00}, // timestamp64 cut short
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := unpack(b)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: %v, want ErrMalformed", b, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("% x: allocated %d bytes", b, n)
		}
	}
}

// TestMsgpackDepth: values nest maxValueDepth deep at most, however deep
// the message claims to go.
func TestMsgpackDepth(t *testing.T) {
	nested := func(k int) []byte { return append(bytes.Repeat([]byte{0x91}, k), 0x01) }
	if _, err := unpack(nested(maxValueDepth)); err != nil {
		t.Errorf("depth %d: %v", maxValueDepth, err)
	}
	for _, k := range []int{maxValueDepth + 1, 1 << 20} {
		if _, err := unpack(nested(k)); !errors.Is(err, ErrMalformed) {
			t.Errorf("depth %d: %v", k, err)
		}
	}
	if _, err := unpack(append(bytes.Repeat([]byte{0x91}, maxValueDepth), 0x90)); err != nil {
		t.Errorf("empty list at depth %d: %v", maxValueDepth, err)
	}
}

// TestBinaryStaysBinary: binary arguments cross as msgpack bin and come
// out as []byte (an attachment for clients), not as text.
func TestBinaryStaysBinary(t *testing.T) {
	args := []any{[]byte{0, 0xff, 'x'}, map[string]any{"b": []byte{}}, "text"}
	b, err := encodeBroadcast("u", "/", "e", args, wireOpts{})
	if err != nil {
		t.Fatal(err)
	}
	bm, err := decodeBroadcast(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(bm.args, args) {
		t.Fatalf("decoded %#v", bm.args)
	}
}

// TestTimeoutBounds: flags.timeout in milliseconds, past what a
// time.Duration holds, is the longest one, never a negative wrap.
func TestTimeoutBounds(t *testing.T) {
	for ms, want := range map[float64]time.Duration{
		1500:                  time.Duration(1500) * time.Millisecond,
		float64(maxTimeoutMs): time.Duration(maxTimeoutMs) * time.Millisecond,
		9.3e15:                time.Duration(maxTimeoutMs) * time.Millisecond,
		1e300:                 0, // not an int64: no timeout given
		-5:                    0,
		math.NaN():            0,
	} {
		o := message{"o": map[string]any{"flags": map[string]any{"timeout": ms}}}.opts("o")
		if o.Timeout != want {
			t.Errorf("timeout %v ms: %v, want %v", ms, o.Timeout, want)
		}
	}
	if n, ok := toInt(float64(1 << 63)); ok {
		t.Errorf("2^63 read as %d", n)
	}
}

// TestHeartbeatLimits: a heartbeat is a uid of 1 to 64 safe characters,
// else dropped as malformed; at most maxNodes nodes are remembered, and a
// new node is heard again once the others time out.
func TestHeartbeatLimits(t *testing.T) {
	n := newOfflineNode(t)
	c := n.c
	for _, p := range []string{"", string(bytes.Repeat([]byte{'a'}, 65)), "a b", "a#b", "é"} {
		c.onHeartbeat(p)
	}
	if got := testutil.ToFloat64(c.m.dropped.WithLabelValues(dropMalformed)); got != 5 {
		t.Errorf("malformed heartbeats counted %v, want 5", got)
	}
	for i := range maxNodes + 10 {
		c.onHeartbeat("node-" + strconv.Itoa(i))
	}
	if got := len(c.Nodes()); got != maxNodes+1 {
		t.Fatalf("%d nodes, want %d and this one", got, maxNodes)
	}
	c.onHeartbeat("late")
	if slices.Contains(c.Nodes(), "late") {
		t.Fatal("a node past the limit was remembered")
	}
	c.mu.Lock()
	for uid := range c.nodes {
		c.nodes[uid] = time.Now().Add(-2 * c.cfg.HeartbeatTimeout)
	}
	c.mu.Unlock()
	c.onHeartbeat("late")
	if got := c.Nodes(); len(got) != 2 || !slices.Contains(got, "late") {
		t.Fatalf("after the others timed out: %v", got)
	}
}
