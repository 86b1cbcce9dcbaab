package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/prometheus/client_golang/prometheus"
)

// serve runs the hub under test: a plain signaling.Server with defaults and
// three handlers — "join" a room, "bcast" to a room, "relay" to a socket id.
func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("noom-load serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback)")
	rate := fs.Int("memprofilerate", envInt("NOOM_LOAD_MEMPROFILERATE"), "runtime.MemProfileRate for /debug/pprof/heap (1 records every allocation); 0 keeps Go's default (env NOOM_LOAD_MEMPROFILERATE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}
	hub, err := signaling.New(signaling.Config{MaxQueueBytes: 16 << 20}, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	nsp := hub.Of("/")
	nsp.OnConnection(func(s *signaling.Socket) {
		s.On("join", func(args []any, _ signaling.Ack) {
			var room string
			if len(args) == 1 && signaling.Decode(args[0], &room) == nil {
				s.Join(room)
				s.Emit("joined", room)
			}
		})
		s.On("bcast", func(args []any, _ signaling.Ack) {
			var room string
			if len(args) == 2 && signaling.Decode(args[0], &room) == nil {
				nsp.To(room).Emit("b", args[1])
			}
		})
		s.On("relay", func(args []any, _ signaling.Ack) {
			var to string
			var sent int64
			if len(args) == 2 && signaling.Decode(args[0], &to) == nil {
				if signaling.Decode(args[1], &sent) == nil {
					inbound.add(time.Since(time.Unix(0, sent)))
				}
				nsp.To(to).Emit("r", s.ID(), args[1])
			}
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", hub)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("POST /debug/gc", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		runtime.GC() // a second cycle shrinks the stacks the first found oversized
		debug.FreeOSMemory()
	})
	mux.HandleFunc("GET /debug/inbound", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, inbound.summary())
	})
	mux.HandleFunc("GET /debug/mem", func(w http.ResponseWriter, r *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(w, "%d %d %d %d\n", m.HeapInuse, m.StackInuse, m.Sys, runtime.NumGoroutine())
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", ln.Addr())
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub.Shutdown(sctx)
	return hs.Shutdown(sctx)
}

// inbound records how long relays took from the sender's clock to the
// hub's handler, to tell the hub's share of the latency from the rest.
var inbound latencies

type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	if len(l.d) < 1_000_000 {
		l.d = append(l.d, d)
	}
	l.mu.Unlock()
}

func (l *latencies) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return "none"
	}
	d := slices.Clone(l.d)
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return fmt.Sprintf("%d relays reached the hub's handler: p50 %v, p99 %v, max %v", len(d), q(.5), q(.99), d[len(d)-1])
}

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}
