package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

type probeResult struct {
	n             int
	p50, p99, max time.Duration
}

// runProbe runs "noom-load probe" in a child process and reads its result.
func runProbe(ctx context.Context, url string, pairs int, d time.Duration) (probeResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return probeResult{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "probe", "-url", url, "-pairs", fmt.Sprint(pairs), "-for", d.String())
	cmd.Stderr = os.Stderr
	dieWithParent(cmd)
	out, err := cmd.Output()
	if err != nil {
		return probeResult{}, fmt.Errorf("probe: %w", err)
	}
	var r probeResult
	var p50, p99, max int64
	if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &r.n, &p50, &p99, &max); err != nil {
		return r, fmt.Errorf("probe said %q: %w", out, err)
	}
	r.p50, r.p99, r.max = time.Duration(p50), time.Duration(p99), time.Duration(max)
	return r, nil
}

// probe opens pairs of connections; each sender relays a timestamp to its
// partner every 20 ms through the hub's "relay" handler for the given
// time, and the one-way delays are printed: "count p50 p99 max" in ns.
func probe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("noom-load probe", flag.ContinueOnError)
	url := fs.String("url", "", "hub URL (http://127.0.0.1:port)")
	pairs := fs.Int("pairs", 50, "pairs of connections")
	d := fs.Duration("for", 10*time.Second, "how long to relay")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.HasPrefix(*url, "http://127.") {
		return errors.New("probe: -url must be a loopback http://127.x address")
	}
	conns, _, err := dialAll(ctx, *url, 2**pairs, 8)
	defer func() {
		for _, c := range conns {
			c.conn.Close()
		}
	}()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var lat []time.Duration
	for _, c := range conns {
		c.onRelay = func(d time.Duration) { mu.Lock(); lat = append(lat, d); mu.Unlock() }
	}
	rctx, cancel := context.WithTimeout(ctx, *d)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < *pairs; i++ {
		a, b := conns[2*i], conns[2*i+1]
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the pairs over the period, so the relays do not queue
			// behind each other.
			select {
			case <-time.After(time.Duration(i) * 20 * time.Millisecond / time.Duration(*pairs)):
			case <-rctx.Done():
				return
			}
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-rctx.Done():
					return
				case <-t.C:
					a.emit(fmt.Sprintf(`"relay",%q,%d`, b.sid, time.Now().UnixNano()))
				}
			}
		}()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(lat) == 0 {
		return errors.New("probe: no relay arrived")
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, len(lat), int64(q(0.5)), int64(q(0.99)), int64(lat[len(lat)-1]))
	return w.Flush()
}
