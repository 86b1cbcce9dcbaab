package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/signaling/signalingtest"
)

// The admin-viewer phase (-viewer console|socketio) answers "what does
// watching the hub cost it?": the closed-loop broadcast and the 1:1 relay
// run at full speed in alternating rounds, without and with an admin
// viewer attached, so that the machine's drift hits both sides alike, and
// the medians are compared. The hub's process always has the viewer's
// server side mounted (as an operator's would); only the viewer comes and
// goes.
//
// The console viewer reads the live message flow (/admin/api/v1/events,
// Server-Sent Events) as a browser would, and meanwhile asks for the
// overview's stats and one list page a second, timing each; the Socket.IO viewer is the
// official Admin UI's client side in development mode: it receives the
// sockets snapshot, then every per-socket event the namespace sends.

const viewerPassword = "noom-load" // the console's password in the hub process

// viewer is one attached admin viewer.
type viewer struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	*viewerStats
}

// viewerStats is what the viewers of a phase saw, all rounds together.
type viewerStats struct {
	events, skipped atomic.Int64 // what the stream delivered, what it said it skipped
	errs            atomic.Int64
	firstErr        atomic.Pointer[string]
	pages           map[string]*hist // request latency per console path
}

func newViewerStats() *viewerStats {
	st := &viewerStats{pages: map[string]*hist{}}
	for _, p := range consolePaths {
		st.pages[p] = new(hist)
	}
	return st
}

// consolePaths are the list reads a console viewer polls.
var consolePaths = []string{"stats", "rooms?limit=50&sort=size", "sockets?limit=50", "sockets?limit=50&q=ab", "rooms/_/room-0"}

func (v *viewerStats) fail(err error) {
	v.errs.Add(1)
	s := err.Error()
	v.firstErr.CompareAndSwap(nil, &s)
}

// startViewer attaches a viewer of the given kind to the hub at base.
func startViewer(ctx context.Context, kind, base string, st *viewerStats) (*viewer, error) {
	ctx, cancel := context.WithCancel(ctx)
	v := &viewer{cancel: cancel, viewerStats: st}
	switch kind {
	case "console":
		hc := &http.Client{}
		req, err := http.NewRequestWithContext(ctx, "GET", base+"/admin/api/v1/events", nil)
		if err != nil {
			cancel()
			return nil, err
		}
		req.SetBasicAuth("admin", viewerPassword)
		resp, err := hc.Do(req)
		if err != nil {
			cancel()
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			cancel()
			return nil, fmt.Errorf("admin events: %s", resp.Status)
		}
		v.wg.Go(func() { v.readSSE(resp.Body) })
		v.wg.Go(func() { v.pollPages(ctx, hc, base) })
	case "socketio":
		c, err := signalingtest.Dial(ctx, base, signalingtest.Options{Namespace: "/admin",
			OnEvent: func(e signalingtest.Event) {
				if e.Name == "server_stats" || e.Name == "config" || e.Name == "session" {
					return
				}
				v.events.Add(1)
			}})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("admin namespace: %w", err)
		}
		v.wg.Go(func() {
			<-ctx.Done()
			c.Close()
		})
	default:
		cancel()
		return nil, fmt.Errorf("-viewer %q: want none, console or socketio", kind)
	}
	return v, nil
}

// readSSE counts the stream's events and the skips it reports.
func (v *viewer) readSSE(body io.ReadCloser) {
	defer body.Close()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	skippedNext := false
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.Equal(line, []byte("event: skipped")):
			skippedNext = true
		case bytes.HasPrefix(line, []byte("data: ")):
			if skippedNext {
				var n int64
				fmt.Sscanf(string(line), `data: {"skipped":%d`, &n)
				v.skipped.Add(n)
				skippedNext = false
			} else {
				v.events.Add(1)
			}
		}
	}
}

// pollPages imitates an operator with the console open: every second the
// overview's stats (the page polls them) and one list page, each list in
// turn, each request timed.
func (v *viewer) pollPages(ctx context.Context, hc *http.Client, base string) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for i := 0; ; i++ {
		for _, p := range []string{consolePaths[0], consolePaths[1+i%(len(consolePaths)-1)]} {
			if err := timeGet(ctx, hc, base, p, v.pages[p]); err != nil {
				if ctx.Err() == nil {
					v.fail(err)
				}
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// timeGet asks the console's API for path and records how long the whole
// answer took.
func timeGet(ctx context.Context, hc *http.Client, base, path string, h *hist) error {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/admin/api/v1/"+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth("admin", viewerPassword)
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %v", path, resp.Status, err)
	}
	h.add(time.Since(start))
	return nil
}

// pageSummary prints each console path's p50 and p99.
func pageSummary(st *viewerStats) string {
	var parts []string
	for _, p := range consolePaths {
		h := st.pages[p]
		parts = append(parts, fmt.Sprintf("%s p50 %v p99 %v (%d)", p, h.quantile(0.5).Round(10*time.Microsecond), h.quantile(0.99).Round(10*time.Microsecond), h.count()))
	}
	return strings.Join(parts, "; ")
}

func (v *viewer) stop() {
	v.cancel()
	v.wg.Wait()
}

// relayPairs are connections that bounce "signal" back to its sender as
// fast as the hub relays it: window messages in flight per pair.
type relayPairs struct {
	conns []*rawConn
}

// run measures the hub's 1:1 relays per second, and the hub's CPU time
// per relay: each pair keeps window signals in flight, each answered at
// once by the other side.
func (rp relayPairs) run(ctx context.Context, srv *server, window int, d time.Duration) (perSec float64, cpu time.Duration) {
	s := new(relaySink)
	currentRelay.Store(s)
	for i := 0; i+1 < len(rp.conns); i += 2 {
		a, b := rp.conns[i], rp.conns[i+1]
		for range window {
			a.emit(false, `"signal","`+b.sid+`",0`)
		}
	}
	sleep(ctx, d/10) // under way
	n0, cpu0 := s.relays.Load(), srv.cpu()
	sleep(ctx, d)
	n, cpu1 := s.relays.Load()-n0, srv.cpu()
	s.stopped.Store(true)
	sleep(ctx, 200*time.Millisecond) // the signals in flight end their bounce
	currentRelay.Store(nil)
	if n == 0 {
		return 0, 0
	}
	return float64(n) / d.Seconds(), (cpu1 - cpu0) / time.Duration(n)
}

// relaySink counts the relays of a relayMax run; stopped ends the bouncing.
type relaySink struct {
	relays  atomic.Int64
	stopped atomic.Bool
}

var currentRelay atomic.Pointer[relaySink]

var prefixSignal = []byte(`42["signal","`)

// bounce answers a relayed `42["signal","<from>",…]` by sending it back to
// <from>, while a relayMax run lasts.
func (c *rawConn) bounce(m []byte) {
	s := currentRelay.Load()
	if s == nil || s.stopped.Load() {
		return
	}
	s.relays.Add(1)
	from, _, ok := bytes.Cut(m[len(prefixSignal):], []byte(`"`))
	if !ok {
		return
	}
	c.emit(false, `"signal","`+string(from)+`",0`)
}

// viewerPhase runs rounds of {without, with} the viewer and prints the
// medians of each side and their ratio.
func viewerPhase(ctx context.Context, srv *server, o loadOptions, rooms [][]*rawConn, pairs relayPairs, pad string) error {
	type side struct{ bcast, relay, bcastCPU, relayCPU []float64 }
	var without, with side
	st := newViewerStats()
	if o.viewer == "console" {
		idle := newViewerStats()
		hc := &http.Client{}
		for range 20 {
			for _, p := range consolePaths {
				if err := timeGet(ctx, hc, srv.url, p, idle.pages[p]); err != nil {
					return err
				}
			}
		}
		fmt.Fprintf(stdout, "console API, hub idle: %s\n", pageSummary(idle))
	}
	for round := range o.viewerRounds {
		for _, on := range []bool{false, true} {
			var v *viewer
			if on {
				var err error
				if v, err = startViewer(ctx, o.viewer, srv.url, st); err != nil {
					return err
				}
				// The steady state is what is measured: an operator attaches
				// once, and the first snapshot (all_sockets, the kept flow)
				// is a one-off cost.
				sleep(ctx, time.Second)
			}
			cpu0 := srv.cpu()
			b := broadcastPhase(ctx, rooms, o.bcastWindow, 0, pad, o.viewerFor, o.drain)
			bcpu := float64(srv.cpu()-cpu0) / float64(max(b.delivered, 1))
			r, rcpu := pairs.run(ctx, srv, o.relayWindow, o.viewerFor)
			dst := &without
			if on {
				dst = &with
				v.stop()
			}
			dst.bcast = append(dst.bcast, b.deliveriesPerSec)
			dst.relay = append(dst.relay, r)
			dst.bcastCPU = append(dst.bcastCPU, bcpu)
			dst.relayCPU = append(dst.relayCPU, float64(rcpu))
			fmt.Fprintf(stdout, "viewer round %d %-7s %.0f broadcast deliveries/s (hub CPU %.0f ns each), %.0f relays/s (hub CPU %v each)\n",
				round+1, map[bool]string{false: "without", true: "with"}[on], b.deliveriesPerSec, bcpu, r, rcpu)
		}
	}
	mbc, wbc := median(without.bcastCPU), median(with.bcastCPU)
	mrc, wrc := median(without.relayCPU), median(with.relayCPU)
	fmt.Fprintf(stdout, "admin viewer:    hub CPU time per broadcast delivery %.0f → %.0f ns (%+.1f %%), per relay %v → %v (%+.1f %%): the cost of watching, whatever else the machine did\n",
		mbc, wbc, 100*(wbc/mbc-1), time.Duration(mrc), time.Duration(wrc), 100*(wrc/mrc-1))
	mb, wb := median(without.bcast), median(with.bcast)
	mr, wr := median(without.relay), median(with.relay)
	fmt.Fprintf(stdout, "admin viewer:    %s attached, medians of %d rounds of %v: broadcast %.0f → %.0f deliveries/s (%+.1f %%), relay %.0f → %.0f relays/s (%+.1f %%); the viewer got %d events, was told of %d skipped\n",
		o.viewer, o.viewerRounds, o.viewerFor, mb, wb, 100*(wb/mb-1), mr, wr, 100*(wr/mr-1), st.events.Load(), st.skipped.Load())
	if o.viewer == "console" {
		fmt.Fprintf(stdout, "                 console API under that load: %s\n", pageSummary(st))
	}
	if st.errs.Load() > 0 {
		return fmt.Errorf("admin viewer: %d errors, the first: %s", st.errs.Load(), *st.firstErr.Load())
	}
	return nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
