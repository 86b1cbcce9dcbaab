package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// options are the command line, each flag also settable by the environment
// variable NOOM_<FLAG_IN_UPPER_SNAKE> (a repeatable flag takes a
// comma-separated list there). The command line wins over the environment.
type options struct {
	Addr              string
	MetricsAddr       string
	PublicHost        string
	LogFormat         string
	LogLevel          string
	AllowedOrigins    listFlag
	MaxRoomSize       int
	PublicRooms       bool
	MaxConnsPerIP     int
	TrustedProxies    listFlag
	ShutdownTimeout   time.Duration
	MaxHTTPConnsPerIP int
	HTTPIdleTimeout   time.Duration

	TURN              bool
	TURNAddr          string
	TURNPublicIP      string
	TURNRelayPorts    string
	TURNRealm         string
	TURNSecret        string
	TURNSecretFile    string
	MetricsTokenFile  string
	metricsToken      string // read from MetricsTokenFile
	TURNAllowPeer     listFlag
	TURNCredentialTTL time.Duration
	TURNTLSCert       string
	TURNTLSKey        string
	TURNTLSAddr       string
	TURNUserQuota     int
	TURNTotalQuota    int
	TURNIPQuota       int
	TURNMaxTCPPerIP   int

	Admin             bool
	AdminAddr         string
	AdminUser         string
	AdminPasswordHash string
	AdminPasswordFile string
	AdminReadOnly     bool
	AdminShowPayloads bool

	RedisURL       string
	RedisPassword  string // from --redis-password-file
	RedisHeartbeat time.Duration

	AdminSocketIO          bool
	AdminSocketIONamespace string
	AdminSocketIOMode      string
	AdminSocketIOInsecure  bool
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func envName(flagName string) string {
	return "NOOM_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("noom", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Addr, "addr", ":3000", "HTTP address: web app, Socket.IO hub, /healthz, /readyz, /metrics")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", "", "serve /metrics on this address instead of --addr")
	fs.StringVar(&o.PublicHost, "public-host", "", "host name put in the ICE server URLs given to browsers (default: the host each browser reached)")
	fs.StringVar(&o.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Var(&o.AllowedOrigins, "allowed-origin", "browser origin (scheme://host[:port]) allowed to use the hub from another site; repeatable; * for any (default: same origin only)")
	fs.IntVar(&o.MaxRoomSize, "max-room-size", 8, "people per call room")
	fs.BoolVar(&o.PublicRooms, "public-rooms", true, "list public rooms on the home page (false: every room is unlisted and the room list is refused)")
	fs.IntVar(&o.MaxConnsPerIP, "max-conns-per-ip", 256, "signaling connections one client IP may hold at once (0: no limit)")
	fs.Var(&o.TrustedProxies, "trusted-proxy", "CIDR of a reverse proxy whose X-Forwarded-For names the client; repeatable")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take")
	fs.IntVar(&o.MaxHTTPConnsPerIP, "max-http-conns-per-ip", 512, "TCP connections one client IP may hold open on --addr (0: no limit; behind a proxy, every connection is the proxy's)")
	fs.DurationVar(&o.HTTPIdleTimeout, "http-idle-timeout", 60*time.Second, "how long an idle keep-alive HTTP connection stays open")

	fs.BoolVar(&o.TURN, "turn", true, "run STUN/TURN in this process")
	fs.StringVar(&o.TURNAddr, "turn-addr", ":3478", "STUN/TURN address, UDP and TCP")
	fs.StringVar(&o.TURNPublicIP, "turn-public-ip", "", "IPv4 advertised in relayed addresses, for hosts behind a 1:1 NAT (default: the listening or primary address)")
	fs.StringVar(&o.TURNRelayPorts, "turn-relay-ports", "49152-65535", "UDP port range of relayed addresses")
	fs.StringVar(&o.TURNRealm, "turn-realm", "noom", "TURN realm")
	fs.StringVar(&o.TURNSecret, "turn-secret", "", "TURN REST API shared secret, as coturn's static-auth-secret (default: random for this process); visible in ps, prefer --turn-secret-file")
	fs.StringVar(&o.MetricsTokenFile, "metrics-token-file", "", "file holding a bearer token that /metrics then requires (Authorization: Bearer <token>)")
	fs.StringVar(&o.TURNSecretFile, "turn-secret-file", "", "file holding the TURN secret (surrounding white space trimmed); not with --turn-secret")
	fs.Var(&o.TURNAllowPeer, "turn-allow-peer", "CIDR of peers TURN may relay to although private (loopback, RFC 1918, ...); repeatable")
	fs.DurationVar(&o.TURNCredentialTTL, "turn-credential-ttl", 12*time.Hour, "lifetime of TURN credentials given to browsers")
	fs.StringVar(&o.TURNTLSCert, "turn-tls-cert", "", "PEM certificate for TURN over TLS (turns:)")
	fs.StringVar(&o.TURNTLSKey, "turn-tls-key", "", "PEM key for TURN over TLS")
	fs.StringVar(&o.TURNTLSAddr, "turn-tls-addr", "", "TURN over TLS address (default: the --turn-addr host, port 5349)")
	fs.IntVar(&o.TURNUserQuota, "turn-user-quota", 0, "allocations one user may hold at once (default 64; negative: no limit)")
	fs.IntVar(&o.TURNTotalQuota, "turn-total-quota", 0, "allocations the server may hold at once (default 8192; negative: no limit)")
	fs.IntVar(&o.TURNIPQuota, "turn-ip-quota", 0, "allocations the clients at one IP (IPv6: one /64) may hold at once (default 256; negative: no limit)")
	fs.IntVar(&o.TURNMaxTCPPerIP, "turn-max-tcp-per-ip", 0, "TURN TCP and TLS connections one IP (IPv6: one /64) may hold at once (default 32; negative: no limit)")
	fs.BoolVar(&o.Admin, "admin", true, "serve the admin console at /admin/")
	fs.StringVar(&o.AdminAddr, "admin-addr", "", "serve the admin console on this address instead of --addr (e.g. an internal interface)")
	fs.StringVar(&o.AdminUser, "admin-user", "admin", "admin console user name")
	fs.StringVar(&o.AdminPasswordHash, "admin-password-hash", "", "bcrypt hash ($2a$, $2b$, $2y$) of the admin password (default: a random password printed at start)")
	fs.StringVar(&o.AdminPasswordFile, "admin-password-file", "", "file whose first line is the admin password or its bcrypt hash")
	fs.BoolVar(&o.AdminReadOnly, "admin-readonly", false, "admin console without actions (no disconnect, join, leave)")
	fs.StringVar(&o.RedisURL, "redis-url", "", "redis://[:password@]host:port/db (or rediss://): share rooms with the other nodes through Redis, wire-compatible with @socket.io/redis-adapter")
	redisPasswordFile := fs.String("redis-password-file", "", "with --redis-url: a file whose first line is the Redis password (keeps it out of the URL, the process list and the shell history)")
	fs.DurationVar(&o.RedisHeartbeat, "redis-heartbeat", 5*time.Second, "with --redis-url: how often this node tells the other Noom nodes it is alive; one silent for 3 beats leaves the nodes list (noom_redis_nodes)")
	fs.BoolVar(&o.AdminSocketIO, "admin-socketio", false, "also speak the official Socket.IO Admin UI protocol (@socket.io/admin-ui 0.5.x) on a hub namespace, with the admin console's credentials")
	fs.StringVar(&o.AdminSocketIONamespace, "admin-socketio-namespace", "/admin", "namespace of the Socket.IO Admin UI")
	fs.StringVar(&o.AdminSocketIOMode, "admin-socketio-mode", "production", "Socket.IO Admin UI mode: production (stats only) or development (sockets, rooms and events too)")
	fs.BoolVar(&o.AdminSocketIOInsecure, "admin-socketio-insecure", false, "accept Socket.IO Admin UI connections without credentials (its auth: false); private networks only")
	fs.BoolVar(&o.AdminShowPayloads, "admin-show-payloads", false, "show event payloads (truncated) in the admin message flow; they carry users' IP addresses")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: noom [flags]\n\nNoom serves a video-call web app, a Socket.IO signaling hub, STUN/TURN and metrics.\nEvery flag can also be set by the environment: --turn-secret as NOOM_TURN_SECRET.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if *redisPasswordFile != "" {
		if o.RedisPassword, err = readRedisPassword(*redisPasswordFile, o.RedisURL); err != nil {
			return nil, err
		}
	}
	return o, o.check()
}

// readRedisPassword reads --redis-password-file: its first line, without
// the line end.
func readRedisPassword(path, redisURL string) (string, error) {
	if redisURL == "" {
		return "", errors.New("--redis-password-file needs --redis-url")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--redis-password-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("--redis-password-file %s: the first line is empty", path)
	}
	return line, nil
}

func (o *options) check() error {
	if o.LogFormat != "text" && o.LogFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, not %q", o.LogFormat)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return fmt.Errorf("--log-level must be debug, info, warn or error, not %q", o.LogLevel)
	}
	if o.TURNPublicIP != "" {
		if _, err := netip.ParseAddr(o.TURNPublicIP); err != nil {
			return fmt.Errorf("--turn-public-ip: %w", err)
		}
	}
	for _, p := range o.TURNAllowPeer {
		if _, err := netip.ParsePrefix(p); err != nil {
			return fmt.Errorf("--turn-allow-peer: %w", err)
		}
	}
	for _, p := range o.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			return fmt.Errorf("--trusted-proxy: %w", err)
		}
	}
	if o.RedisHeartbeat <= 0 {
		return fmt.Errorf("--redis-heartbeat must be positive, not %v", o.RedisHeartbeat)
	}
	if o.AdminPasswordHash != "" && o.AdminPasswordFile != "" {
		return fmt.Errorf("--admin-password-hash and --admin-password-file exclude each other")
	}
	if o.AdminPasswordHash != "" {
		if _, err := bcrypt.Cost([]byte(o.AdminPasswordHash)); err != nil {
			return fmt.Errorf("--admin-password-hash: not a bcrypt hash: %w", err)
		}
	}
	if (o.TURNTLSCert == "") != (o.TURNTLSKey == "") {
		return fmt.Errorf("--turn-tls-cert and --turn-tls-key go together")
	}
	if o.MetricsTokenFile != "" {
		b, err := os.ReadFile(o.MetricsTokenFile)
		if err != nil {
			return fmt.Errorf("--metrics-token-file: %w", err)
		}
		if o.metricsToken = strings.TrimSpace(string(b)); o.metricsToken == "" {
			return fmt.Errorf("--metrics-token-file %s is empty", o.MetricsTokenFile)
		}
	}
	return o.readTURNSecretFile()
}

// readTURNSecretFile puts the secret of --turn-secret-file in TURNSecret.
func (o *options) readTURNSecretFile() error {
	if o.TURNSecretFile == "" {
		return nil
	}
	if o.TURNSecret != "" {
		return fmt.Errorf("--turn-secret and --turn-secret-file exclude each other")
	}
	b, err := os.ReadFile(o.TURNSecretFile)
	if err != nil {
		return fmt.Errorf("--turn-secret-file: %w", err)
	}
	if o.TURNSecret = strings.TrimSpace(string(b)); o.TURNSecret == "" {
		return fmt.Errorf("--turn-secret-file %s is empty", o.TURNSecretFile)
	}
	return nil
}

// describe lists the effective configuration, secrets masked.
func (o *options) describe() []any {
	secret := "(random for this process)"
	if o.TURNSecret != "" {
		secret = "********"
	}
	return []any{
		"addr", o.Addr, "metrics_addr", orDefault(o.MetricsAddr, "(on addr)"), "public_host", orDefault(o.PublicHost, "(per request)"),
		"allowed_origins", orDefault(o.AllowedOrigins.String(), "(same origin)"), "max_room_size", o.MaxRoomSize, "public_rooms", o.PublicRooms,
		"max_conns_per_ip", o.MaxConnsPerIP, "trusted_proxies", orDefault(o.TrustedProxies.String(), "(none)"),
		"turn", o.TURN, "turn_addr", o.TURNAddr, "turn_public_ip", orDefault(o.TURNPublicIP, "(auto)"),
		"turn_relay_ports", o.TURNRelayPorts, "turn_realm", o.TURNRealm, "turn_secret", secret,
		"turn_allow_peer", orDefault(o.TURNAllowPeer.String(), "(none)"), "turn_credential_ttl", o.TURNCredentialTTL,
		"turn_tls", o.TURNTLSCert != "",
		"admin", o.Admin, "admin_addr", orDefault(o.AdminAddr, "(on addr)"), "admin_user", o.AdminUser,
		"admin_readonly", o.AdminReadOnly, "admin_show_payloads", o.AdminShowPayloads,
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
