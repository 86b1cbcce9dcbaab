package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/signaling/signalingtest"
)

// The relay pairs run in a process of their own ("noom-load probe"), as
// clients on other machines would: in the main process every broadcast
// wakes thousands of readers that a pair's receiver would queue behind, and
// the latency would be the load tool's own.
//
// The parent and the probe talk in lines. The probe dials its pairs, puts
// both sockets of pair i into broadcast room i % rooms, and prints
// "ready". Then, for each phase, it waits for "go" on its stdin, relays
// for the phase's time, waits for what is still in flight (up to -drain),
// and prints one result line (see probeResult).

// probeResult is one phase's relay latency, as the probe prints it:
// "result <p99 ns, -1 if lost> <closed sockets> <broadcasts received>\t<summary>".
type probeResult struct {
	p99     time.Duration // -1 when the p99 relay never arrived
	closed  int           // pair sockets the hub closed or disconnected
	bcasts  int64         // broadcasts the pairs received during the phase
	summary string        // p50/p95/p99/max and losses, for people
}

// probeProc is the running probe child.
type probeProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startProbe(ctx context.Context, url string, pairs, rooms int, every, d, drain time.Duration, pad int) (*probeProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "probe", "-url", url, "-pairs", fmt.Sprint(pairs), "-rooms", fmt.Sprint(rooms),
		"-every", every.String(), "-for", d.String(), "-drain", drain.String(), "-payload", fmt.Sprint(pad))
	cmd.Stderr = os.Stderr
	dieWithParent(cmd)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &probeProc{cmd: cmd, in: in, out: bufio.NewReader(out)}
	if line, err := p.out.ReadString('\n'); err != nil || line != "ready\n" {
		p.stop()
		return nil, fmt.Errorf("probe did not start: %q %v", line, err)
	}
	return p, nil
}

// phase runs one relay phase and returns its result.
func (p *probeProc) phase() (probeResult, error) {
	var r probeResult
	if _, err := io.WriteString(p.in, "go\n"); err != nil {
		return r, err
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return r, fmt.Errorf("probe: %w", err)
	}
	head, summary, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
	var p99 int64
	if _, err := fmt.Sscanf(head, "result %d %d %d", &p99, &r.closed, &r.bcasts); !ok || err != nil {
		return r, fmt.Errorf("probe said %q", line)
	}
	r.p99, r.summary = time.Duration(p99), summary
	return r, nil
}

func (p *probeProc) stop() {
	p.in.Close() // the probe ends when its stdin does
	waitOrKill(p.cmd, 15*time.Second)
}

// probe is the child process's side.
func probe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("noom-load probe", flag.ContinueOnError)
	url := fs.String("url", "", "hub URL (http://127.0.0.1:port)")
	pairs := fs.Int("pairs", 50, "pairs of connections")
	rooms := fs.Int("rooms", 0, "broadcast rooms the pairs join (pair i: room-(i % rooms)); 0: none")
	every := fs.Duration("every", 20*time.Millisecond, "each pair's sender relays this often")
	d := fs.Duration("for", 5*time.Second, "how long each phase relays")
	drain := fs.Duration("drain", 10*time.Second, "how long to wait for relays still in flight after a phase")
	pad := fs.Int("payload", 100, "bytes of padding in each relay")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.HasPrefix(*url, "http://127.") {
		return errors.New("probe: -url must be a loopback http://127.x address")
	}
	pr := &pairRun{pad: strings.Repeat("x", *pad)}
	if err := pr.dial(ctx, *url, *pairs, *rooms); err != nil {
		return err
	}
	defer pr.close()
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for phase := 1; in.Scan() && in.Text() == "go"; phase++ {
		fmt.Println(pr.run(ctx, phase, *every, *d, *drain))
	}
	return nil
}

// pairRun is the probe's pairs: a relays to b through the hub's "signal".
type pairRun struct {
	pad     string
	a, b    []*signalingtest.Client
	closed  atomic.Int64 // sockets that ended before the probe closed them
	closing atomic.Bool

	mu       sync.Mutex
	phase    int   // the phase being measured; relays of other phases are ignored
	lat      *hist // this phase's relays
	received int64
	bcasts   atomic.Int64
}

func (pr *pairRun) dial(ctx context.Context, url string, pairs, rooms int) error {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	opts := signalingtest.Options{OnEvent: pr.onEvent}
	for i := range pairs {
		var two [2]*signalingtest.Client
		for j := range two {
			c, err := signalingtest.Dial(dctx, url, opts)
			if err != nil {
				return fmt.Errorf("pair %d: %w", i, err)
			}
			two[j] = c
			go func() {
				<-c.Done()
				if !pr.closing.Load() {
					pr.closed.Add(1)
				}
			}()
			if rooms > 0 {
				if err := c.Call(dctx, nil, "join", fmt.Sprintf("room-%d", i%rooms)); err != nil {
					return fmt.Errorf("pair %d: join: %w", i, err)
				}
			}
		}
		pr.a, pr.b = append(pr.a, two[0]), append(pr.b, two[1])
	}
	return nil
}

func (pr *pairRun) close() {
	pr.closing.Store(true)
	for _, c := range append(pr.a, pr.b...) {
		c.Close()
	}
}

// onEvent runs on each socket's reading goroutine.
func (pr *pairRun) onEvent(e signalingtest.Event) {
	switch e.Name {
	case "bcast":
		pr.bcasts.Add(1)
	case "signal":
		var p struct {
			T int64 `json:"t"`
			K int   `json:"k"`
		}
		if len(e.Args) != 2 || json.Unmarshal(e.Args[1], &p) != nil {
			return
		}
		d := time.Since(time.Unix(0, p.T))
		pr.mu.Lock()
		if p.K == pr.phase {
			pr.lat.add(d)
			pr.received++
		}
		pr.mu.Unlock()
	}
}

// run relays for d, spreading the pairs over the period, then waits up to
// drain for what is in flight, and returns the result line.
func (pr *pairRun) run(ctx context.Context, phase int, every, d, drain time.Duration) string {
	lat := new(hist)
	pr.mu.Lock()
	pr.phase, pr.lat, pr.received = phase, lat, 0
	pr.mu.Unlock()
	closed0, bcasts0 := pr.closed.Load(), pr.bcasts.Load()
	var sent atomic.Int64
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for i := range pr.a {
		a, b := pr.a[i], pr.b[i]
		wg.Go(func() {
			select {
			case <-time.After(time.Duration(i) * every / time.Duration(len(pr.a))):
			case <-rctx.Done():
				return
			}
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				if a.Emit("signal", b.ID, json.RawMessage(payload(phase, pr.pad))) == nil {
					sent.Add(1)
				}
				select {
				case <-rctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(drain)
	for {
		pr.mu.Lock()
		got := pr.received
		pr.mu.Unlock()
		if got >= sent.Load() || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	pr.mu.Lock()
	lost := sent.Load() - pr.received
	pr.phase = 0
	pr.mu.Unlock()
	p99 := int64(-1)
	if d, ok := lat.quantileOf(0.99, lost); ok {
		p99 = int64(d)
	}
	return "result " + strconv.FormatInt(p99, 10) + " " + strconv.FormatInt(pr.closed.Load()-closed0, 10) + " " +
		strconv.FormatInt(pr.bcasts.Load()-bcasts0, 10) + "\t" + lat.summary(lost)
}
