// Command noom runs everything a team needs for browser video calls in one
// process: the web app, the Socket.IO signaling hub with the Noom call
// protocol, STUN/TURN, health checks and Prometheus metrics.
//
//	go run ./cmd/noom            # http://localhost:3000, STUN/TURN on :3478
//	go run ./cmd/noom --help     # every flag, each also an NOOM_* variable
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/noomrtc/noom/cmd/internal/adminwire"
	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/call"
	"github.com/noomrtc/noom/signaling/redisadapter"
	"github.com/noomrtc/noom/stunturn"
	"github.com/noomrtc/noom/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "noom:", err)
		os.Exit(1)
	}
}

// ready reports the addresses a running noom listens on, for tests.
type ready struct {
	HTTP, Metrics string
	Admin         string // "" without the console
	TURN          stunturn.Addrs
}

// run starts noom and serves until ctx is done, then shuts down in order:
// readiness off, hub (clients told), HTTP, call service, TURN. onReady,
// if set, is called once every listener is up.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, onReady func(ready)) error {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(o, stderr)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildInfo())

	pres := &turnPresence{}
	var turn *stunturn.Server
	if o.TURN {
		if turn, err = startTURN(o, reg, log, pres.present); err != nil {
			return fmt.Errorf("stun/turn: %w", err)
		}
		defer turn.Close()
	}

	ipOf := clientIP(o.TrustedProxies)
	rdz := &readiness{deps: map[string]dependency{}}
	var adapter func(signaling.Local) signaling.Adapter
	var rooms call.Registry   // nil: the call service's own, this node's rooms
	var nodes adminwire.Nodes // nil: this node alone
	if o.RedisURL != "" {
		cluster, closeCluster, err := startRedis(o, reg, log)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		// Deferred before the hub's shutdown is: runs after it.
		defer closeCluster()
		adapter = cluster.Adapter
		nodes = cluster
		rdz.deps["redis"] = cluster
		shared, closeRooms, err := startCallRegistry(o, reg, log)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		defer closeRooms() // after the call service's Close, before the cluster's
		rooms = shared
		rdz.deps["call_registry"] = shared
	}
	hub, err := signaling.New(signaling.Config{
		Adapter:        adapter,
		AllowedOrigins: o.AllowedOrigins,
		MaxConnsPerIP:  o.MaxConnsPerIP,
		ClientIP:       ipOf,
		Logger:         log.With("component", "signaling"),
	}, reg)
	if err != nil {
		return fmt.Errorf("signaling: %w", err)
	}
	var ice call.ICEProvider
	if turn != nil {
		ice = iceAdapter{turn: turn, publicHost: o.PublicHost}
	}
	calls, err := call.New(call.Config{
		MaxRoomSize:  o.MaxRoomSize,
		HideRoomList: !o.PublicRooms,
		// The call service's per-IP limits see the client as the hub does,
		// behind a trusted proxy too.
		ClientIP: func(h signaling.Handshake) string {
			return ipOf(&http.Request{RemoteAddr: h.RemoteAddr, Header: h.Headers})
		},
		Registry: rooms,
		Logger:   log.With("component", "call"),
	}, hub.Of("/"), ice, reg)
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	present := calls.Present
	pres.f.Store(&present)
	defer calls.Close()
	console, adminPassword, err := startAdmin(o, hub, turn, calls, nodes, reg, log)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if console != nil {
		defer console.Close()
	}
	if o.AdminSocketIO {
		sio, err := startSocketIOAdmin(o, hub, console, reg, log, ipOf)
		if err != nil {
			return fmt.Errorf("admin-socketio: %w", err)
		}
		defer sio.Close()
	}
	app, err := web.New(web.Config{MaxRoomSize: o.MaxRoomSize, HideRoomList: !o.PublicRooms, Logger: log.With("component", "web")})
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}

	metricsHandler := bearer(o.metricsToken, promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, EnableOpenMetrics: true}))
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", hub)
	mux.Handle("/socket.io/socket.io.js", app)
	mux.Handle("/", app)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.Handle("GET /readyz", rdz)
	if o.MetricsAddr == "" {
		mux.Handle("GET /metrics", metricsHandler)
	}
	if console != nil && o.AdminAddr == "" {
		mux.Handle("/admin/", console)
		mux.Handle("/admin", console)
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return err
	}
	ln = newPerIPListener(ln, o.MaxHTTPConnsPerIP)
	httpSrv := &http.Server{
		Handler: hostCheck(o.PublicHost, ln.Addr().String(), mux),
		// Headers within 10 s; a polling POST body within the hub's
		// ReadTimeout; WebSocket and long-polling keep their own deadlines.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       o.HTTPIdleTimeout,
		ErrorLog: stdlog.New(&rateLimitedWriter{w: slog.NewLogLogger(log.Handler(), slog.LevelWarn).Writer(),
			burst: 10, interval: 10 * time.Second}, "", 0),
	}
	errc := make(chan error, 3)
	go func() { errc <- httpSrv.Serve(ln) }()

	rd := ready{HTTP: ln.Addr().String(), Metrics: ln.Addr().String()}
	var metricsSrv *http.Server
	if o.MetricsAddr != "" {
		mln, err := net.Listen("tcp", o.MetricsAddr)
		if err != nil {
			httpSrv.Close()
			return err
		}
		mmux := http.NewServeMux()
		mmux.Handle("GET /metrics", metricsHandler)
		metricsSrv = &http.Server{Handler: mmux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- metricsSrv.Serve(mln) }()
		rd.Metrics = mln.Addr().String()
	}
	var adminSrv *http.Server
	if console != nil {
		rd.Admin = rd.HTTP
		if o.AdminAddr != "" {
			if adminSrv, rd.Admin, err = serveAdmin(o.AdminAddr, console, log, errc); err != nil {
				httpSrv.Close()
				return err
			}
		}
	}
	if turn != nil {
		rd.TURN = turn.Addrs()
	}
	rdz.ready.Store(true)
	printBanner(stdout, o, rd)
	printAdminBanner(stdout, o, rd.Admin, adminPassword)
	log.Info("noom started", o.describe()...)
	if onReady != nil {
		onReady(rd)
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-errc:
		log.Error("server failed", "err", err)
	}
	rdz.ready.Store(false)
	if console != nil {
		console.Close() // ends its live streams, which never go idle
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	if e := hub.Shutdown(sctx); e != nil {
		log.Warn("hub shutdown", "err", e)
	}
	if e := httpSrv.Shutdown(sctx); e != nil {
		log.Warn("http shutdown", "err", e)
	}
	if metricsSrv != nil {
		metricsSrv.Shutdown(sctx)
	}
	if adminSrv != nil {
		adminSrv.Shutdown(sctx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// buildInfo is noom_build_info{version,goversion} = 1: the dashboards'
// job and instance variables and the version-skew alert read it.
func buildInfo() prometheus.Collector {
	version, goversion := "dev", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goversion = bi.GoVersion
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			version = v
		}
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "noom_build_info",
		Help:        "Always 1; the labels name the running build.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goversion}}, func() float64 { return 1 })
}

func newLogger(o *options, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	hopts := &slog.HandlerOptions{Level: level}
	if o.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

// turnPresence lets the TURN server ask the call service, made after it,
// whether a user (a socket id) is still connected and in a room: relay use
// follows signaling presence.
type turnPresence struct {
	f atomic.Pointer[func(string) bool]
}

func (p *turnPresence) present(user string) bool {
	if f := p.f.Load(); f != nil {
		return (*f)(user)
	}
	return false // no call service yet: nobody is present
}

func startTURN(o *options, reg prometheus.Registerer, log *slog.Logger, present func(string) bool) (*stunturn.Server, error) {
	cfg := stunturn.Config{
		Addr:             o.TURNAddr,
		TLSCertFile:      o.TURNTLSCert,
		TLSKeyFile:       o.TURNTLSKey,
		TLSAddr:          o.TURNTLSAddr,
		Realm:            o.TURNRealm,
		Secret:           []byte(o.TURNSecret),
		CredentialTTL:    o.TURNCredentialTTL,
		UserQuota:        o.TURNUserQuota,
		TotalQuota:       o.TURNTotalQuota,
		IPQuota:          o.TURNIPQuota,
		MaxTCPConnsPerIP: o.TURNMaxTCPPerIP,
		Presence:         present,
	}
	if o.TURNPublicIP != "" {
		cfg.PublicIP = netip.MustParseAddr(o.TURNPublicIP)
	}
	if o.TURNRelayPorts != "" {
		lo, hi, err := stunturn.ParsePortRange(o.TURNRelayPorts)
		if err != nil {
			return nil, fmt.Errorf("--turn-relay-ports: %w", err)
		}
		cfg.RelayPortMin, cfg.RelayPortMax = lo, hi
	}
	for _, p := range o.TURNAllowPeer {
		cfg.AllowPeers = append(cfg.AllowPeers, netip.MustParsePrefix(p))
	}
	return stunturn.New(cfg, reg, log.With("component", "stunturn"))
}

// iceAdapter gives the call service ICE servers from the TURN server.
type iceAdapter struct {
	turn       *stunturn.Server
	publicHost string
}

func (a iceAdapter) ICEServers(host, user string) []call.ICEServer {
	if a.publicHost != "" {
		host = a.publicHost
	}
	in := a.turn.ICEServers(host, user)
	out := make([]call.ICEServer, len(in))
	for i, s := range in {
		out[i] = call.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential}
	}
	return out
}

func printBanner(w io.Writer, o *options, rd ready) {
	base := "http://" + displayAddr(rd.HTTP)
	fmt.Fprintf(w, "Noom is running.\n")
	fmt.Fprintf(w, "  Web app:      %s/\n", base)
	fmt.Fprintf(w, "  Socket.IO:    %s/socket.io/\n", base)
	fmt.Fprintf(w, "  Health:       %s/healthz  %s/readyz\n", base, base)
	fmt.Fprintf(w, "  Metrics:      http://%s/metrics\n", displayAddr(rd.Metrics))
	if t := rd.TURN; t.UDP.IsValid() {
		fmt.Fprintf(w, "  STUN/TURN:    udp+tcp %s (relay address %s)\n", t.UDP, t.Relay)
		if t.TLS.IsValid() {
			fmt.Fprintf(w, "  TURN/TLS:     %s\n", t.TLS)
		}
	}
}

// displayAddr turns ":3000" or "[::]:3000" into "localhost:3000".
func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + port
}

// redisOptions are --redis-url's, with --redis-password-file's password.
func redisOptions(o *options) (*redis.Options, error) {
	opts, err := redis.ParseURL(o.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("--redis-url: %w", err)
	}
	if o.RedisPassword != "" {
		opts.Password = o.RedisPassword
	}
	return opts, nil
}

// startRedis connects the Redis cluster adapter; close stops it and the
// client (after the hub has shut down).
func startRedis(o *options, reg prometheus.Registerer, log *slog.Logger) (*redisadapter.Cluster, func(), error) {
	opts, err := redisOptions(o)
	if err != nil {
		return nil, nil, err
	}
	rdb := redis.NewClient(opts)
	c, err := redisadapter.New(redisadapter.Config{HeartbeatInterval: o.RedisHeartbeat}, rdb, reg, log.With("component", "redis"))
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	return c, func() { c.Close(); rdb.Close() }, nil
}
