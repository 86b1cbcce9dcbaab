package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/admin"
	"github.com/noomrtc/noom/admin/sioadmin"
	"github.com/noomrtc/noom/cmd/internal/adminwire"
	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/redisadapter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

// serve runs the hub under test: a signaling.Server with its defaults
// (unless -max-queue-bytes is given) and the contract of the side-by-side
// harness (../shared/bench/README.md), so that both tools load the hub the
// same way:
//
//	join(room, ack)            join, ack(number of joins of the room)
//	signal(toSocketId, data)   emit signal(fromSocketId, data) to that socket
//	bcast(room, data, ack?)    emit bcast(fromSocketId, data) to the room but the sender, then ack()
//	echo(data, ack)            ack(data)
//
// It also counts the reasons sockets were disconnected for, so the load
// tool can print the slow consumers the hub cut off.
func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("noom-load serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback)")
	maxQueue := fs.Int("max-queue-bytes", 0, "signaling.Config.MaxQueueBytes; 0 keeps the hub's default")
	adminPassword := fs.String("admin-password", "", "attach the admin console at /admin/ with user admin and this password (bcrypt, lowest cost); empty: no console")
	redisURL := fs.String("redis-url", "", "share rooms with other hubs through the Redis adapter at this URL; empty: one node")
	sioAdmin := fs.Bool("sioadmin", false, "attach the Socket.IO Admin UI namespace /admin in development mode, without credentials")
	rate := fs.Int("memprofilerate", envInt("NOOM_LOAD_MEMPROFILERATE"), "runtime.MemProfileRate for /debug/pprof/heap (1 records every allocation); 0 keeps Go's default (env NOOM_LOAD_MEMPROFILERATE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}
	reg := prometheus.NewRegistry()
	var adapter func(signaling.Local) signaling.Adapter
	if *redisURL != "" {
		opts, err := redis.ParseURL(*redisURL)
		if err != nil {
			return err
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		cluster, err := redisadapter.New(redisadapter.Config{}, rdb, reg, slog.Default())
		if err != nil {
			return err
		}
		defer cluster.Close() // after the hub's shutdown, deferred below
		adapter = cluster.Adapter
	}
	hub, err := signaling.New(signaling.Config{MaxQueueBytes: *maxQueue, MaxRoomsPerSocket: 1 << 20, Adapter: adapter}, reg)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	if *adminPassword != "" {
		console, err := attachConsole(hub, *adminPassword, reg)
		if err != nil {
			return err
		}
		defer console.Close()
		mux.Handle("/admin/", console)
	}
	if *sioAdmin {
		a, err := sioadmin.New(sioadmin.Config{Mode: sioadmin.Development, Insecure: true,
			Logger: slog.New(slog.DiscardHandler)}, hub, reg)
		if err != nil {
			return err
		}
		defer a.Close()
	}
	var (
		mu    sync.Mutex
		joins = map[string]int{} // the API has no O(1) room size; a join count serves the ack
	)
	hub.OnConnection(func(s *signaling.Socket) {
		s.OnDisconnect(disconnects.add)
		s.On("join", func(args []any, ack signaling.Ack) {
			var room string
			if len(args) == 0 || signaling.Decode(args[0], &room) != nil {
				return
			}
			if err := s.Join(room); err != nil {
				return
			}
			mu.Lock()
			joins[room]++
			n := joins[room]
			mu.Unlock()
			if ack != nil {
				ack(n)
			}
		})
		s.On("signal", func(args []any, _ signaling.Ack) {
			var to string
			if len(args) < 2 || signaling.Decode(args[0], &to) != nil {
				return
			}
			if sent, ok := payloadTime(args[1]); ok {
				inbound.Load().add(time.Since(time.Unix(0, sent)))
			}
			hub.To(to).Emit("signal", s.ID(), args[1])
		})
		s.On("bcast", func(args []any, ack signaling.Ack) {
			var room string
			if len(args) < 2 || signaling.Decode(args[0], &room) != nil {
				return
			}
			s.To(room).Emit("bcast", s.ID(), args[1])
			if ack != nil {
				ack()
			}
		})
		s.On("echo", func(args []any, ack signaling.Ack) {
			if ack != nil && len(args) > 0 {
				ack(args[0])
			}
		})
	})
	mux.Handle("/socket.io/", hub)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("POST /debug/gc", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		runtime.GC() // a second cycle shrinks the stacks the first found oversized
		debug.FreeOSMemory()
	})
	mux.HandleFunc("GET /debug/inbound", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, inbound.Load().summary(0))
	})
	mux.HandleFunc("POST /debug/inbound/reset", func(w http.ResponseWriter, r *http.Request) {
		inbound.Store(new(hist))
	})
	mux.HandleFunc("GET /debug/disconnects", func(w http.ResponseWriter, r *http.Request) {
		disconnects.write(w)
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

// attachConsole makes the admin console over hub, as cmd/noom wires it
// (through the same bridge), with its live stream and lists.
func attachConsole(hub *signaling.Server, password string, reg prometheus.Registerer) (*admin.Console, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return nil, err
	}
	b := adminwire.NewHub(hub, false)
	c, err := admin.New(admin.Config{Hub: b, Actions: b, PasswordHash: hash, Logger: slog.New(slog.DiscardHandler)}, reg)
	if err != nil {
		b.Close()
		return nil, err
	}
	return c, nil
}

// inbound records how long signals took from the sender's clock to the
// hub's handler, to tell the hub's share of the latency from the rest.
// /debug/inbound/reset replaces it with an empty one.
var inbound atomic.Pointer[hist]

func init() { inbound.Store(new(hist)) }

// disconnects counts the reasons sockets were disconnected for.
var disconnects reasons

type reasons struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *reasons) add(reason string) {
	r.mu.Lock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[reason]++
	r.mu.Unlock()
}

// write prints "count<TAB>reason" lines, sorted by reason.
func (r *reasons) write(w http.ResponseWriter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]string, 0, len(r.n))
	for k := range r.n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%d\t%s\n", r.n[k], k)
	}
}

// payloadTime reads the sender's clock out of a harness payload
// {"t":<ns>,...} as the hub's handler receives it.
func payloadTime(arg any) (int64, bool) {
	var p struct {
		T int64 `json:"t"`
	}
	if signaling.Decode(arg, &p) != nil || p.T == 0 {
		return 0, false
	}
	return p.T, true
}

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}
