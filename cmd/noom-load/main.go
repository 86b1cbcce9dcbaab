// Command noom-load measures the signaling hub under load on loopback and
// prints the numbers. Its phases, in order:
//
//  1. connections: new connections per second while opening -conns
//     (WebSocket + Socket.IO CONNECT);
//  2. idle memory: the hub's RSS per idle connection, read WITHOUT forcing
//     a GC (what an operator's RSS graph shows), then after a forced GC;
//  3. broadcast burst: -broadcasts broadcasts to one room of -room sockets
//     as fast as one sender writes them, open loop; deliveries per second
//     until every one has arrived;
//  4. broadcast closed loop: one sender per room keeps -bcast-window acked
//     broadcasts in flight for -bcast-for; deliveries per second, delivery
//     latency p50/p99/max, and how long the hub took to deliver what was
//     still queued when the senders stopped;
//  5. 1:1 relay: -pairs pairs (in a process of their own) whose sockets
//     are members of the broadcast rooms relay to each other every
//     -relay-every, first with no broadcasts (the unloaded latency), then
//     while the room senders saturate the hub (closed loop, or -bcast-rate
//     a second): p50/p95/p99/max of each, the ratio of the p99s, and the
//     sockets the hub disconnected (slow consumers) meanwhile. A relay
//     stuck behind a broadcast backlog shows here;
//  6. admin viewer (-viewer console|socketio): broadcast and relay
//     throughput without and with an admin viewer attached, in
//     alternating rounds (viewer.go).
//
// With -nodes N > 1 the hubs are N processes sharing rooms through Redis
// and the connections are spread over them (nodes.go): the broadcast
// phases measure cross-node delivery.
//
// With no -server it starts its own hub in a child process ("noom-load
// serve"), so that the RSS it reads is the hub's alone. It only ever
// connects to 127.0.0.1, and every phase is bounded in count and time.
//
//	go run ./cmd/noom-load -conns 10000 -room 1000
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
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
	conns, dialers, payload     int
	rooms, members              int
	broadcasts                  int
	bcastWindow, bcastRate      int
	bcastFor                    time.Duration
	pairs                       int
	relayEvery, relayFor, drain time.Duration
	settle                      time.Duration
	hubProcs, hubMaxQueue       int
	pin, hold                   bool
	viewer                      string
	viewerRounds                int
	viewerFor                   time.Duration
	viewerPairs, relayWindow    int
	nodes                       int
	redisURL                    string
}

func parseLoad(args []string) (loadOptions, error) {
	var o loadOptions
	fs := flag.NewFlagSet("noom-load", flag.ContinueOnError)
	fs.IntVar(&o.conns, "conns", 10000, "connections to open, the pairs' included (idle RSS, connection rate)")
	fs.IntVar(&o.dialers, "dialers", 64, "concurrent dialers while opening connections")
	fs.IntVar(&o.payload, "payload", 100, "bytes of padding in each broadcast and relay payload")
	fs.IntVar(&o.rooms, "rooms", 1, "broadcast rooms")
	fs.IntVar(&o.members, "room", 1000, "sockets in each broadcast room (one of them its sender)")
	fs.IntVar(&o.broadcasts, "broadcasts", 2000, "broadcasts of the open-loop burst to the first room; 0 skips the burst")
	fs.IntVar(&o.bcastWindow, "bcast-window", 16, "acked broadcasts each room's sender keeps in flight (closed loop)")
	fs.DurationVar(&o.bcastFor, "bcast-for", 5*time.Second, "how long the closed-loop broadcast phase lasts; 0 skips it")
	fs.IntVar(&o.bcastRate, "bcast-rate", 0, "broadcasts a second in total while the pairs relay under load; 0: closed loop (saturate the hub)")
	fs.IntVar(&o.pairs, "pairs", 50, "relay pairs, inside the broadcast rooms; 0 skips the relay phases")
	fs.DurationVar(&o.relayEvery, "relay-every", 20*time.Millisecond, "each pair relays this often")
	fs.DurationVar(&o.relayFor, "relay-for", 5*time.Second, "how long each relay phase (unloaded, under load) lasts")
	fs.DurationVar(&o.drain, "drain", 10*time.Second, "after a phase, how long to wait for what is still in flight before counting it lost")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "wait after opening the connections before reading the idle RSS")
	fs.IntVar(&o.hubProcs, "hub-procs", 1, "GOMAXPROCS of the hub process")
	fs.IntVar(&o.hubMaxQueue, "hub-max-queue-bytes", 0, "the hub's signaling.Config.MaxQueueBytes; 0 keeps its default")
	fs.StringVar(&o.viewer, "viewer", "none", "admin viewer phase: none, console (the admin console's live stream and lists) or socketio (the Socket.IO Admin UI namespace, development mode): broadcast and relay throughput without and with the viewer, in alternating rounds")
	fs.IntVar(&o.viewerRounds, "viewer-rounds", 3, "rounds of {without, with} the viewer")
	fs.DurationVar(&o.viewerFor, "viewer-for", 3*time.Second, "how long the broadcast and the relay run in each half of a viewer round")
	fs.IntVar(&o.viewerPairs, "viewer-pairs", 16, "relay pairs of the viewer phase (outside the broadcast rooms), each bouncing signals as fast as the hub relays them")
	fs.IntVar(&o.relayWindow, "relay-window", 8, "signals each viewer-phase pair keeps in flight")
	fs.IntVar(&o.nodes, "nodes", 1, "hubs sharing rooms through the Redis adapter, the connections spread over them (nodes.go)")
	fs.StringVar(&o.redisURL, "redis-url", "", "Redis of the hubs with -nodes > 1 (loopback only); default: a redis-server of this run on a free loopback port")
	fs.BoolVar(&o.pin, "pin", false, "pin the hub to CPU 0 and the load clients to the other CPUs (Linux), so they do not take each other's time")
	fs.BoolVar(&o.hold, "hold", false, "keep the connections open after the runs until interrupted (for profiling the hub)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.rooms < 1 || o.members < 2:
		return o, fmt.Errorf("-rooms must be ≥ 1 and -room ≥ 2")
	case o.rooms*o.members > o.conns-2*o.pairs:
		return o, fmt.Errorf("-conns %d is too few for -rooms %d × -room %d and -pairs %d", o.conns, o.rooms, o.members, o.pairs)
	case o.bcastWindow < 1 || o.bcastWindow > 64:
		return o, fmt.Errorf("-bcast-window must be within 1..64")
	case o.viewer != "none" && o.viewer != "console" && o.viewer != "socketio":
		return o, fmt.Errorf("-viewer %q: want none, console or socketio", o.viewer)
	case o.viewer != "none" && o.rooms*o.members+2*o.viewerPairs > o.conns-2*o.pairs:
		return o, fmt.Errorf("-conns %d is too few for the broadcast rooms, -pairs %d and -viewer-pairs %d", o.conns, o.pairs, o.viewerPairs)
	case o.nodes < 1:
		return o, fmt.Errorf("-nodes must be ≥ 1")
	case o.redisURL != "" && !loopbackURL(o.redisURL):
		return o, fmt.Errorf("-redis-url %q: noom-load only connects to loopback", o.redisURL)
	case o.viewer != "none" && (o.viewerRounds < 1 || o.viewerFor <= 0 || o.viewerPairs < 1 || o.relayWindow < 1):
		return o, fmt.Errorf("-viewer-rounds, -viewer-for, -viewer-pairs and -relay-window must be positive")
	}
	return o, nil
}

func load(ctx context.Context, args []string) error {
	o, err := parseLoad(args)
	if err != nil {
		return err
	}
	raiseFileLimit()
	srvs, stopAll, err := startCluster(ctx, o)
	defer stopAll()
	if err != nil {
		return err
	}
	srv := srvs[0]
	urls := make([]string, len(srvs))
	for i, s := range srvs {
		urls[i] = s.url
		if o.pin {
			if err := pinCPUs(s.pid); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "noom-load: hub pid %d at %s, GOMAXPROCS=%d on the hub; %d CPUs here\n", srv.pid, srv.url, o.hubProcs, runtime.NumCPU())
	for _, s := range srvs[1:] {
		fmt.Fprintf(stdout, "noom-load: hub pid %d at %s, the same rooms through Redis; connections spread over %d nodes\n", s.pid, s.url, len(srvs))
	}
	pad := strings.Repeat("x", o.payload)

	// 1, 2. Idle connections: connection rate and RSS.
	base := srv.rss()
	conns, elapsed, err := dialAll(ctx, urls, o.conns-2*o.pairs, o.dialers)
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "connections:     %d opened in %v: %.0f new connections/s (WebSocket + Socket.IO connect, client on the same machine)\n",
		len(conns), elapsed.Round(time.Millisecond), float64(len(conns))/elapsed.Seconds())
	sleep(ctx, o.settle)
	onFirst := (len(conns) + len(srvs) - 1) / len(srvs) // connections on the first node
	raw := srv.rss()
	mem := srv.mem(onFirst)
	srv.gc()
	sleep(ctx, 500*time.Millisecond)
	settled := srv.rss()
	perConn := func(rss int64) float64 { return float64(rss-base) / float64(onFirst) / 1024 }
	fmt.Fprintf(stdout, "idle memory:     %.1f KB RSS per connection, no forced GC (hub RSS %s → %s with %d connections, %v after the last one)\n",
		perConn(raw), mb(base), mb(raw), onFirst, o.settle)
	fmt.Fprintf(stdout, "                 %.1f KB per connection after a forced GC and FreeOSMemory (%s); %s\n", perConn(settled), mb(settled), mem)

	rooms := make([][]*rawConn, o.rooms)
	for i := range rooms {
		rooms[i] = conns[i*o.members : (i+1)*o.members]
	}
	if err := joinRooms(rooms, 30*time.Second); err != nil {
		return err
	}

	// 3. Broadcast burst, open loop.
	if o.broadcasts > 0 {
		if err := burst(ctx, rooms[0], o.broadcasts, pad, o.drain); err != nil {
			return err
		}
	}

	// 4. Broadcast closed loop.
	if o.bcastFor > 0 {
		disc0 := srv.disconnects()
		closed0 := serverClosed.Load()
		r := broadcastPhase(ctx, rooms, o.bcastWindow, 0, pad, o.bcastFor, o.drain)
		fmt.Fprintf(stdout, "broadcast loop:  %d rooms × %d, %d acked broadcasts in flight per room sender, %v: %.0f deliveries/s (%.0f broadcasts/s); delivery latency %s\n",
			o.rooms, o.members, o.bcastWindow, o.bcastFor, r.deliveriesPerSec, r.bcastsPerSec, r.lat)
		fmt.Fprintf(stdout, "                 after the senders stopped, the hub took %v to deliver what was queued%s; disconnects: %s\n",
			r.drained, r.lostNote, disconnectNote(srv.disconnects(), disc0, serverClosed.Load()-closed0))
	}

	// 5. 1:1 relay inside the broadcast rooms, unloaded, then under load.
	if o.pairs > 0 {
		if err := relayPhases(ctx, srv, o, rooms, pad); err != nil {
			return err
		}
	}
	// 6. The cost of an admin viewer.
	if o.viewer != "none" {
		first := o.rooms * o.members
		if err := viewerPhase(ctx, srv, o, rooms, relayPairs{conns[first : first+2*o.viewerPairs]}, pad); err != nil {
			return err
		}
	}
	if o.hold {
		fmt.Fprintf(stdout, "holding %d connections; hub at %s (pprof at /debug/pprof/); interrupt to stop\n", len(conns), srv.url)
		<-ctx.Done()
	}
	return nil
}

// burst sends n broadcasts to room from its first member as fast as it can
// write them, and waits for every delivery.
func burst(ctx context.Context, room []*rawConn, n int, pad string, drain time.Duration) error {
	s := new(sink)
	currentSink.Store(s)
	defer currentSink.Store(nil)
	want := int64(n) * int64(len(room)-1)
	start := time.Now()
	for range n {
		if err := room[0].emit(false, `"bcast","room-0",`+payload(0, pad)); err != nil {
			return err
		}
	}
	waitUntil(ctx, time.Now().Add(drain+time.Duration(want)*time.Microsecond), func() bool { return s.deliveries.Load() >= want })
	bt := time.Since(start)
	fmt.Fprintf(stdout, "broadcast burst: %d broadcasts × %d receivers = %d deliveries of %d B in %v: %.0f deliveries/s; latency %s\n",
		n, len(room)-1, s.deliveries.Load(), len(pad), bt.Round(time.Millisecond), float64(s.deliveries.Load())/bt.Seconds(), s.lat.summary(want-s.deliveries.Load()))
	if got := s.deliveries.Load(); got < want {
		return fmt.Errorf("broadcast burst: only %d of %d deliveries arrived", got, want)
	}
	return nil
}

// broadcasters send broadcasts from the first member of each room until
// stopped: closed loop (window acked broadcasts in flight per sender) when
// rate is 0, otherwise rate broadcasts a second in total, unacked.
type broadcasters struct {
	stop chan struct{}
	wg   sync.WaitGroup
	sent []int64 // per room, read after the goroutines end
}

func startBroadcasters(rooms [][]*rawConn, window, rate int, pad string) *broadcasters {
	b := &broadcasters{stop: make(chan struct{}), sent: make([]int64, len(rooms))}
	if rate > 0 {
		b.wg.Go(func() {
			t := time.NewTicker(time.Second / time.Duration(rate))
			defer t.Stop()
			for i := 0; ; i = (i + 1) % len(rooms) {
				select {
				case <-b.stop:
					return
				case <-t.C:
				}
				if rooms[i][0].emit(false, `"bcast","room-`+strconv.Itoa(i)+`",`+payload(0, pad)) == nil {
					b.sent[i]++
				}
			}
		})
		return b
	}
	for i, members := range rooms {
		sender := members[0]
		for len(sender.acks) > 0 { // acks left over from an earlier phase
			<-sender.acks
		}
		b.wg.Go(func() {
			name := `"bcast","room-` + strconv.Itoa(i) + `",`
			inFlight := 0
			for {
				for ; inFlight < window; inFlight++ {
					if sender.emit(true, name+payload(0, pad)) != nil {
						return
					}
					b.sent[i]++
				}
				select {
				case <-b.stop:
					return
				case <-sender.acks:
					inFlight--
				}
			}
		})
	}
	return b
}

// halt stops the senders and returns how many deliveries the broadcasts
// sent make.
func (b *broadcasters) halt(rooms [][]*rawConn) (want int64) {
	close(b.stop)
	b.wg.Wait()
	for i, n := range b.sent {
		want += n * int64(len(rooms[i])-1)
	}
	return want
}

type broadcastResult struct {
	deliveriesPerSec, bcastsPerSec float64
	lat                            string
	drained                        time.Duration
	lostNote                       string
	delivered                      int64 // in the window and while draining
}

// broadcastPhase runs the broadcasters for d, then waits up to drain for
// the deliveries still queued.
func broadcastPhase(ctx context.Context, rooms [][]*rawConn, window, rate int, pad string, d, drain time.Duration) broadcastResult {
	s := new(sink)
	currentSink.Store(s)
	defer currentSink.Store(nil)
	b := startBroadcasters(rooms, window, rate, pad)
	sleep(ctx, d)
	inWindow := s.deliveries.Load()
	stopped := time.Now()
	want := b.halt(rooms)
	var sent int64
	for _, n := range b.sent {
		sent += n
	}
	waitUntil(ctx, stopped.Add(drain), func() bool { return s.deliveries.Load() >= want })
	r := broadcastResult{
		deliveriesPerSec: float64(inWindow) / d.Seconds(),
		bcastsPerSec:     float64(sent) / d.Seconds(),
		drained:          time.Since(stopped).Round(time.Millisecond),
		delivered:        s.deliveries.Load(),
	}
	lost := max(want-s.deliveries.Load(), 0)
	r.lat = s.lat.summary(lost)
	if lost > 0 {
		r.lostNote = fmt.Sprintf(" (gave up after -drain %v with %d deliveries missing)", drain, lost)
	}
	return r
}

func relayPhases(ctx context.Context, srv *server, o loadOptions, rooms [][]*rawConn, pad string) error {
	p, err := startProbe(ctx, srv.url, o.pairs, o.rooms, o.relayEvery, o.relayFor, o.drain, o.payload)
	if err != nil {
		return err
	}
	defer p.stop()
	members := len(rooms[0]) + 2*o.pairs/o.rooms
	srv.post("/debug/inbound/reset")
	quiet, err := p.phase()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "relay, unloaded: %d pairs in %d rooms of about %d, a relay every %v per pair, no broadcasts, %v: %s\n",
		o.pairs, o.rooms, members, o.relayEvery, o.relayFor, quiet.summary)
	fmt.Fprintf(stdout, "                 of which sender → hub handler: %s\n", srv.get("/debug/inbound"))

	srv.post("/debug/inbound/reset")
	disc0 := srv.disconnects()
	closed0 := serverClosed.Load()
	s := new(sink)
	currentSink.Store(s)
	b := startBroadcasters(rooms, o.bcastWindow, o.bcastRate, pad)
	start := time.Now()
	loaded, err := p.phase() // includes the probe's drain
	inPhase, took := s.deliveries.Load(), time.Since(start)
	b.halt(rooms)
	currentSink.Store(nil)
	if err != nil {
		return err
	}
	how := fmt.Sprintf("closed loop, %d acked in flight per room sender", o.bcastWindow)
	if o.bcastRate > 0 {
		how = fmt.Sprintf("%d broadcasts/s", o.bcastRate)
	}
	fmt.Fprintf(stdout, "relay, loaded:   same pairs while every room's sender broadcasts (%s; %.0f deliveries/s to the main process, %d to the pairs): %s\n",
		how, float64(inPhase)/took.Seconds(), loaded.bcasts, loaded.summary)
	fmt.Fprintf(stdout, "                 of which sender → hub handler: %s\n", srv.get("/debug/inbound"))
	ratio := "n/a (a p99 relay never arrived)"
	if loaded.p99 >= 0 && quiet.p99 > 0 {
		ratio = fmt.Sprintf("%.1f× (target ≤ 2×)", float64(loaded.p99)/float64(quiet.p99))
	}
	fmt.Fprintf(stdout, "                 loaded p99 / unloaded p99: %s; disconnects: %s\n", ratio,
		disconnectNote(srv.disconnects(), disc0, serverClosed.Load()-closed0+int64(loaded.closed)))
	return nil
}

// disconnectNote describes the disconnects the hub made between two
// snapshots and the connections the clients saw the hub close.
func disconnectNote(now, before map[string]int, clientSeen int64) string {
	var parts []string
	for reason, n := range now {
		if d := n - before[reason]; d > 0 {
			parts = append(parts, fmt.Sprintf("%d %q", d, reason))
		}
	}
	hub := "none by the hub"
	if len(parts) > 0 {
		hub = "hub: " + strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%s; %d connections closed by the hub as the clients saw it", hub, clientSeen)
}

// stdout receives the report; the smoke test reads it.
var stdout io.Writer = os.Stdout

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// waitUntil polls cond until it holds, the deadline passes or ctx ends.
func waitUntil(ctx context.Context, deadline time.Time, cond func() bool) {
	for !cond() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

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

func startServer(ctx context.Context, procs, maxQueue int, viewer, redisURL string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "-addr", "127.0.0.1:0", "-max-queue-bytes", strconv.Itoa(maxQueue)}
	switch viewer {
	case "console":
		args = append(args, "-admin-password", viewerPassword)
	case "socketio":
		args = append(args, "-sioadmin")
	}
	if redisURL != "" {
		args = append(args, "-redis-url", redisURL)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", procs))
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
		cmd.Wait()
		return nil, fmt.Errorf("hub did not start: %v", err)
	}
	go io.Copy(io.Discard, out)
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening "))
	return &server{cmd: cmd, pid: cmd.Process.Pid, url: "http://" + addr, http: &http.Client{Timeout: 10 * time.Second}}, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	waitOrKill(s.cmd, 15*time.Second)
	s.http.CloseIdleConnections()
}

// waitOrKill waits for a child that was told to end, and kills it if it
// has not ended within d.
func waitOrKill(cmd *exec.Cmd, d time.Duration) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
	}
}

// cpu reads the CPU time the hub's process has used (user + system, all
// threads) from /proc: how much a phase cost the hub, whatever else the
// machine's cores were doing meanwhile.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return 0
	}
	// Fields after the command name in parentheses: utime and stime are
	// the 12th and 13th, in clock ticks (USER_HZ, 100 on Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
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

func (s *server) post(path string) {
	if resp, err := s.http.Post(s.url+path, "text/plain", nil); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// disconnects reads the hub's count of disconnects by reason.
func (s *server) disconnects() map[string]int {
	out := map[string]int{}
	for _, l := range strings.Split(s.get("/debug/disconnects"), "\n") {
		if n, reason, ok := strings.Cut(l, "\t"); ok {
			out[reason], _ = strconv.Atoi(n)
		}
	}
	return out
}

// mem describes the hub's heap and stacks per connection.
func (s *server) mem(n int) string {
	var heap, stack, sys, g float64
	fmt.Sscan(s.get("/debug/mem"), &heap, &stack, &sys, &g)
	return fmt.Sprintf("Go heap in use %.1f KB and stacks %.1f KB per connection, %.0f goroutines (before the GC)", heap/float64(n)/1024, stack/float64(n)/1024, g)
}

func (s *server) gc() { s.post("/debug/gc") }
