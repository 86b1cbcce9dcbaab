package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling/socketio"
)

// TestMain lets the test binary stand in for noom-load's child processes
// ("serve" and "probe"), which load starts through os.Executable.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "serve" || os.Args[1] == "probe") {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmallLoad runs every phase of the load tool at a small size. The
// numbers are for people and not checked, but every phase must complete,
// every broadcast delivery and relay must arrive (at this size nothing
// may be lost or disconnected), and every phase must print its line.
func TestSmallLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	var out bytes.Buffer
	stdout = &out
	defer func() { stdout = os.Stdout }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := load(ctx, []string{"-conns", "310", "-rooms", "2", "-room", "100", "-broadcasts", "50",
		"-bcast-for", "500ms", "-bcast-window", "4", "-pairs", "5", "-relay-for", "500ms", "-settle", "100ms",
		"-drain", "20s", "-dialers", "8"})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`connections: +300 opened`,
		`idle memory: +-?[0-9.]+ KB RSS per connection, no forced GC`,
		`broadcast burst: 50 broadcasts × 99 receivers = 4950 deliveries`,
		`broadcast loop: +2 rooms × 100, 4 acked broadcasts in flight per room sender, 500ms: [0-9]+ deliveries/s`,
		`relay, unloaded: 5 pairs in 2 rooms .* p99 [0-9.]+[µm]?s, max`,
		`relay, loaded: .* p99 [0-9.]+[µm]?s, max`,
		`loaded p99 / unloaded p99: [0-9.]+×`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("no line matching %q", want)
		}
	}
	for _, bad := range []string{"never arrived", "missing", "lost,"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("the report says %q", bad)
		}
	}
	if n := strings.Count(out.String(), "none by the hub; 0 connections closed"); n != 2 {
		t.Errorf("%d of 2 phases report no disconnects", n)
	}
}

// TestSmallLoadFixedRate runs the relay phases with broadcasts at a fixed
// rate instead of closed loop, and skips the broadcast phases.
func TestSmallLoadFixedRate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	var out bytes.Buffer
	stdout = &out
	defer func() { stdout = os.Stdout }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := load(ctx, []string{"-conns", "110", "-rooms", "1", "-room", "100", "-broadcasts", "0", "-bcast-for", "0",
		"-bcast-rate", "200", "-pairs", "5", "-relay-for", "500ms", "-settle", "100ms", "-drain", "20s", "-dialers", "8"})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "broadcast burst") || strings.Contains(out.String(), "broadcast loop") {
		t.Error("a skipped phase ran")
	}
	if !regexp.MustCompile(`relay, loaded: .*\(200 broadcasts/s; .* p99 [0-9.]+[µm]?s, max`).MatchString(out.String()) {
		t.Error("no loaded relay line at 200 broadcasts/s")
	}
}

func TestHist(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{.5, 500 * time.Microsecond}, {.99, 990 * time.Microsecond}, {1, time.Millisecond}} {
		got := h.quantile(tc.q)
		if got < tc.want || float64(got) > 1.07*float64(tc.want) {
			t.Errorf("q%v = %v, want %v within 7 %%", tc.q, got, tc.want)
		}
	}
	// 20 lost of 1020: the p99 is among the lost, the p95 is not.
	if _, ok := h.quantileOf(.99, 20); ok {
		t.Error("p99 with 2 % lost should be lost")
	}
	if d, ok := h.quantileOf(.95, 20); !ok || d < 969*time.Microsecond {
		t.Errorf("p95 with 20 lost: %v %v", d, ok)
	}
	for ns := int64(0); ns < 1<<20; ns += 7 {
		if b := bucketOf(ns); lowOf(b) > ns || lowOf(b+1) <= ns {
			t.Fatalf("%d in bucket %d [%d, %d)", ns, b, lowOf(b), lowOf(b+1))
		}
	}
}

func TestSentAt(t *testing.T) {
	m := []byte(`42["bcast","abc",{"t":1733100000123456789,"k":0,"p":"xx"}]`)
	if got := sentAt(m); got != 1733100000123456789 {
		t.Fatalf("sentAt = %d", got)
	}
	if sentAt([]byte(`42["bcast","abc",{}]`)) != 0 {
		t.Fatal("sentAt without a clock")
	}
}

// BenchmarkReceive compares what a raw load connection does per received
// broadcast with what a signalingtest.Client does (validate and decode the
// packet, split its array, decode the event name), to show why the many
// load connections stay raw.
func BenchmarkReceive(b *testing.B) {
	msg := []byte(`42["bcast","AAAAAAAAAAAAAAAAAAAA",` + payload(0, strings.Repeat("x", 100)) + `]`)
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		var n int64
		for b.Loop() {
			if bytes.HasPrefix(msg, prefixBcast) {
				n += sentAt(msg)
			}
		}
	})
	b.Run("signalingtest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := socketio.Decode(msg[1:])
			if err != nil {
				b.Fatal(err)
			}
			elems, _ := socketio.SplitArray(p.Data)
			var name string
			json.Unmarshal(elems[0], &name)
			sentAt(elems[2])
		}
	})
}

// TestSmallLoadViewers runs the admin-viewer phase with each viewer: the
// viewer must attach, see events and the console's lists answer (an error
// of the viewer fails the run), and every round must print.
func TestSmallLoadViewers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, kind := range []string{"console", "socketio"} {
		t.Run(kind, func(t *testing.T) {
			var out bytes.Buffer
			stdout = &out
			defer func() { stdout = os.Stdout }()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			err := load(ctx, []string{"-conns", "120", "-rooms", "1", "-room", "100", "-broadcasts", "0", "-bcast-for", "0",
				"-pairs", "0", "-settle", "100ms", "-dialers", "8", "-viewer", kind, "-viewer-rounds", "1",
				"-viewer-for", "300ms", "-viewer-pairs", "4", "-relay-window", "2"})
			t.Log("\n" + out.String())
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{
				`viewer round 1 without +[0-9]+ broadcast deliveries/s \(hub CPU [0-9]+ ns each\), [1-9][0-9]* relays/s`,
				`viewer round 1 with +[0-9]+ broadcast deliveries/s \(hub CPU [0-9]+ ns each\), [1-9][0-9]* relays/s`,
				`hub CPU time per broadcast delivery [0-9]+ → [0-9]+ ns`,
				`admin viewer: +` + kind + ` attached, .* the viewer got [1-9][0-9]* events`,
			} {
				if !regexp.MustCompile(want).MatchString(out.String()) {
					t.Errorf("no line matching %q", want)
				}
			}
			if kind == "console" && !regexp.MustCompile(`stats p50 [0-9.]+[µm]?s p99 [0-9.]+[µm]?s \([1-9]`).MatchString(out.String()) {
				t.Error("no timed console list")
			}
		})
	}
}

// TestSmallLoadTwoNodes runs the broadcast phases over two hubs sharing
// rooms through a redis-server of the run's own: every delivery, most of
// them through Redis, must arrive.
func TestSmallLoadTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := "redis-server is not installed (apt-get install redis-server): noom-load -nodes is untested"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var out bytes.Buffer
	stdout = &out
	defer func() { stdout = os.Stdout }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := load(ctx, []string{"-nodes", "2", "-conns", "200", "-rooms", "2", "-room", "100", "-broadcasts", "50",
		"-bcast-for", "500ms", "-bcast-window", "4", "-pairs", "0", "-settle", "100ms", "-drain", "20s", "-dialers", "8"})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`the same rooms through Redis; connections spread over 2 nodes`,
		`broadcast burst: 50 broadcasts × 99 receivers = 4950 deliveries`,
		`broadcast loop: +2 rooms × 100, .* [0-9]+ deliveries/s`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("no line matching %q", want)
		}
	}
	for _, bad := range []string{"never arrived", "missing"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("the report says %q", bad)
		}
	}
}
