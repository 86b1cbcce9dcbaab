// Command noom-load measures the signaling hub under load on loopback and
// prints the numbers:
//
//   - RSS of the server process per idle connection at -conns connections;
//   - new connections per second while ramping up;
//   - broadcast deliveries per second to a room of -room sockets;
//   - 1:1 relay latency (p50/p99/max) while every connection is open and
//     broadcasts run.
//
// With no -server it starts its own hub in a child process ("noom-load
// serve"), so that the RSS it reads is the hub's alone. It only ever
// connects to 127.0.0.1, and every phase is bounded in count and time.
//
//	go run ./cmd/noom-load -conns 10000 -room 1000
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		err = serve(ctx, os.Args[2:])
	} else if len(os.Args) > 1 && os.Args[1] == "probe" {
		err = probe(ctx, os.Args[2:])
	} else {
		err = load(ctx, os.Args[1:])
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "noom-load:", err)
		os.Exit(1)
	}
}

type loadOptions struct {
	conns, room, broadcasts, payload, pairs, dialers int
	relayFor                                         time.Duration
	bcastRate                                        int
	hold                                             bool
}

func load(ctx context.Context, args []string) error {
	var o loadOptions
	fs := flag.NewFlagSet("noom-load", flag.ContinueOnError)
	fs.IntVar(&o.conns, "conns", 10000, "connections to open (idle RSS, connection rate)")
	fs.IntVar(&o.room, "room", 1000, "sockets in the broadcast room")
	fs.IntVar(&o.broadcasts, "broadcasts", 2000, "broadcasts sent to the room")
	fs.IntVar(&o.payload, "payload", 100, "bytes of each broadcast's payload")
	fs.IntVar(&o.pairs, "pairs", 50, "pairs of sockets relaying to each other for the latency run")
	fs.IntVar(&o.dialers, "dialers", 64, "concurrent dialers while ramping up")
	fs.DurationVar(&o.relayFor, "relay-for", 10*time.Second, "how long the latency run lasts")
	fs.IntVar(&o.bcastRate, "bcast-rate", 10, "broadcasts a second to the room during the latency run")
	fs.IntVar(&hubProcs, "hub-procs", 1, "GOMAXPROCS of the hub process")
	pin := fs.Bool("pin", false, "pin the hub to CPU 0 and the load clients to the other CPUs (Linux), so they do not take each other's time")
	fs.BoolVar(&o.hold, "hold", false, "keep the connections open after the runs until interrupted (for profiling the hub)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.room > o.conns || 2*o.pairs > o.conns-o.room-1 {
		return fmt.Errorf("-conns %d is too few for -room %d and -pairs %d", o.conns, o.room, o.pairs)
	}
	raiseFileLimit()

	srv, err := startServer(ctx)
	if err != nil {
		return err
	}
	defer srv.stop()
	if *pin {
		if err := pinCPUs(srv.pid); err != nil {
			return err
		}
	}
	fmt.Printf("noom-load: hub pid %d at %s, GOMAXPROCS=%d on the hub; %d CPUs here\n", srv.pid, srv.url, hubProcs, runtime.NumCPU())

	// Idle connections: RSS and connection rate.
	srv.gc()
	base := srv.rss()
	conns, elapsed, err := dialAll(ctx, srv.url, o.conns-2*o.pairs, o.dialers)
	defer func() {
		for _, c := range conns {
			c.conn.Close()
		}
	}()
	if err != nil {
		return err
	}
	fmt.Printf("connections:     %d opened in %v: %.0f new connections/s (WebSocket + Socket.IO connect, client on the same machine)\n",
		len(conns), elapsed.Round(time.Millisecond), float64(len(conns))/elapsed.Seconds())
	time.Sleep(2 * time.Second)
	raw := srv.rss()
	srv.gc()
	time.Sleep(500 * time.Millisecond)
	settled := srv.rss()
	fmt.Printf("idle memory:     hub RSS %s before, %s with %d connections (%s after GC): %.1f KB per connection (%.1f KB before GC)\n",
		kb(base), kb(raw), len(conns), kb(settled), float64(settled-base)/float64(len(conns))/1024, float64(raw-base)/float64(len(conns))/1024)
	fmt.Printf("                 %s\n", srv.mem(len(conns)))

	// Broadcast fan-out.
	room := conns[1 : 1+o.room]
	sender := conns[0]
	for _, c := range room {
		c.emit(`"join","big"`)
	}
	for _, c := range room {
		if !c.waitCount(&c.joined, 1, 10*time.Second) {
			return errors.New("joins were not acknowledged")
		}
	}
	payload := strconv.Quote(strings.Repeat("x", o.payload))
	var total atomic.Int64
	for _, c := range room {
		c.total = &total
	}
	want := int64(o.broadcasts) * int64(len(room))
	start := time.Now()
	for i := 0; i < o.broadcasts; i++ {
		sender.emit(`"bcast","big",` + payload)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for total.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	bt := time.Since(start)
	fmt.Printf("broadcast:       %d broadcasts × %d sockets = %d deliveries of %d B in %v: %.0f deliveries/s\n",
		o.broadcasts, len(room), total.Load(), o.payload, bt.Round(time.Millisecond), float64(total.Load())/bt.Seconds())
	if total.Load() < want {
		return fmt.Errorf("only %d of %d deliveries arrived", total.Load(), want)
	}

	// Relay latency with every connection open and broadcasts running.
	stopBcast := make(chan struct{})
	var bwg sync.WaitGroup
	bwg.Add(1)
	go func() {
		defer bwg.Done()
		if o.bcastRate <= 0 {
			return
		}
		t := time.NewTicker(time.Second / time.Duration(o.bcastRate))
		defer t.Stop()
		for {
			select {
			case <-stopBcast:
				return
			case <-t.C:
				sender.emit(`"bcast","big",` + payload)
			}
		}
	}()
	// The pairs run in a process of their own, as clients on other machines
	// would: in this one, every broadcast wakes a thousand readers that the
	// relay's receiver would queue behind.
	res, err := runProbe(ctx, srv.url, o.pairs, o.relayFor)
	close(stopBcast)
	bwg.Wait()
	if err != nil {
		return err
	}
	fmt.Printf("relay latency:   %d relays among %d pairs (own process) with %d connections open and %d broadcasts/s to %d: p50 %v, p99 %v, max %v\n",
		res.n, o.pairs, len(conns)+2*o.pairs, o.bcastRate, len(room), res.p50, res.p99, res.max)
	fmt.Printf("                 of which sender → hub handler: %s\n", srv.get("/debug/inbound"))
	if o.hold {
		fmt.Printf("holding %d connections; hub at %s (pprof at /debug/pprof/); interrupt to stop\n", len(conns), srv.url)
		<-ctx.Done()
	}
	return nil
}

var hubProcs = 1

func kb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// server is the hub under test, in a child process.
type server struct {
	cmd  *exec.Cmd
	pid  int
	url  string
	http *http.Client
}

func startServer(ctx context.Context) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "serve", "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", hubProcs))
	dieWithParent(cmd)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("hub did not start: %v", err)
	}
	go io.Copy(io.Discard, out)
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening "))
	return &server{cmd: cmd, pid: cmd.Process.Pid, url: "http://" + addr, http: &http.Client{Timeout: 10 * time.Second}}, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
	}
}

// rss reads the hub's resident set size from /proc.
func (s *server) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n * 1024
		}
	}
	return 0
}

func (s *server) get(path string) string {
	resp, err := s.http.Get(s.url + path)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// mem describes the hub's heap and stacks per connection.
func (s *server) mem(n int) string {
	resp, err := s.http.Get(s.url + "/debug/mem")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var heap, stack, sys, g float64
	fmt.Fscan(resp.Body, &heap, &stack, &sys, &g)
	return fmt.Sprintf("Go heap in use %.1f KB and stacks %.1f KB per connection; %.0f goroutines", heap/float64(n)/1024, stack/float64(n)/1024, g)
}

func (s *server) gc() {
	if resp, err := s.http.Post(s.url+"/debug/gc", "text/plain", nil); err == nil {
		resp.Body.Close()
	}
}

// conn is one load client: a bare WebSocket speaking just enough Engine.IO
// and Socket.IO.
type conn struct {
	conn    *websocket.Conn
	sid     string
	wmu     sync.Mutex
	joined  atomic.Int64
	total   *atomic.Int64
	onRelay func(time.Duration)
}

func dialAll(ctx context.Context, base string, n, dialers int) ([]*conn, time.Duration, error) {
	u := "ws" + strings.TrimPrefix(base, "http") + "/socket.io/?EIO=4&transport=websocket"
	out := make([]*conn, n)
	var next atomic.Int64
	var firstErr error
	var emu sync.Mutex
	d := &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < dialers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := dial(ctx, d, u)
				if err != nil {
					emu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					emu.Unlock()
					return
				}
				out[i] = c
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	conns := slices.DeleteFunc(out, func(c *conn) bool { return c == nil })
	return conns, elapsed, firstErr
}

func dial(ctx context.Context, d *websocket.Dialer, u string) (*conn, error) {
	ws, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, m, err := ws.ReadMessage(); err != nil || len(m) == 0 || m[0] != '0' {
		ws.Close()
		return nil, fmt.Errorf("no open packet: %v", err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		ws.Close()
		return nil, err
	}
	_, m, err := ws.ReadMessage()
	if err != nil || !strings.HasPrefix(string(m), `40{"sid":"`) {
		ws.Close()
		return nil, fmt.Errorf("no connect reply: %q %v", m, err)
	}
	ws.SetReadDeadline(time.Time{})
	c := &conn{conn: ws, sid: strings.TrimSuffix(strings.TrimPrefix(string(m), `40{"sid":"`), `"}`)}
	go c.read()
	return c, nil
}

func (c *conn) emit(args string) {
	c.wmu.Lock()
	c.conn.WriteMessage(websocket.TextMessage, []byte("42["+args+"]"))
	c.wmu.Unlock()
}

func (c *conn) waitCount(n *atomic.Int64, want int64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for n.Load() < want {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

var (
	prefixB      = []byte(`42["b",`)
	prefixR      = []byte(`42["r",`)
	prefixJoined = []byte(`42["joined"`)
)

func (c *conn) read() {
	for {
		_, m, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case len(m) == 1 && m[0] == '2':
			c.wmu.Lock()
			c.conn.WriteMessage(websocket.TextMessage, []byte("3"))
			c.wmu.Unlock()
		case hasPrefix(m, prefixB):
			if t := c.total; t != nil {
				t.Add(1)
			}
		case hasPrefix(m, prefixR):
			var v []json.RawMessage
			if json.Unmarshal(m[2:], &v) == nil && len(v) == 3 {
				ns, _ := strconv.ParseInt(string(v[2]), 10, 64)
				if f := c.onRelay; f != nil {
					f(time.Since(time.Unix(0, ns)))
				}
			}
		case hasPrefix(m, prefixJoined):
			c.joined.Add(1)
		}
	}
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == string(p) }
