package main

// The admin console and the Socket.IO Admin UI namespace: flags into
// their Configs. The bridge from the hub, TURN and the call service to the
// console's sources lives in cmd/internal/adminwire, shared with
// cmd/noom-load.

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/noomrtc/noom/admin"
	"github.com/noomrtc/noom/admin/sioadmin"
	"github.com/noomrtc/noom/cmd/internal/adminwire"
	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/call"
	"github.com/noomrtc/noom/stunturn"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
)

// startAdmin makes the console, or returns nil when --admin=false. When no
// password was configured it makes a random one and returns it, to be
// printed once.
func startAdmin(o *options, hub *signaling.Server, turn *stunturn.Server, calls *call.Service, nodes adminwire.Nodes,
	reg *prometheus.Registry, log *slog.Logger) (c *admin.Console, password string, err error) {
	if !o.Admin {
		return nil, "", nil
	}
	hash, password, err := adminPasswordHash(o)
	if err != nil {
		return nil, "", err
	}
	b := adminwire.NewHub(hub, o.AdminShowPayloads)
	cfg := admin.Config{
		Hub: b, Actions: b, User: o.AdminUser, PasswordHash: hash,
		ReadOnly: o.AdminReadOnly, ShowPayloads: o.AdminShowPayloads, Version: buildVersion(),
		ClientIP: clientIP(o.TrustedProxies), IsHTTPS: isHTTPS(o.TrustedProxies),
		Logger: log.With("component", "admin"),
	}
	if turn != nil {
		cfg.TURN = adminwire.TURN{S: turn}
	}
	if calls != nil {
		cfg.Calls = adminwire.Calls{Svc: calls, Hub: b}
	}
	if nodes != nil {
		cfg.Cluster = adminwire.Cluster{Hub: hub, Nodes: nodes}
	}
	c, err = admin.New(cfg, reg)
	if err != nil {
		b.Close()
		return nil, "", err
	}
	return c, password, nil
}

// adminPasswordHash reads --admin-password-hash or --admin-password-file
// (a bcrypt hash, or a password that is hashed here), or makes a random
// password.
func adminPasswordHash(o *options) (hash []byte, generated string, err error) {
	switch {
	case o.AdminPasswordHash != "":
		return []byte(o.AdminPasswordHash), "", nil
	case o.AdminPasswordFile != "":
		b, err := os.ReadFile(o.AdminPasswordFile)
		if err != nil {
			return nil, "", fmt.Errorf("--admin-password-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		line = strings.TrimSpace(line)
		if line == "" {
			return nil, "", fmt.Errorf("--admin-password-file %s is empty", o.AdminPasswordFile)
		}
		if _, err := bcrypt.Cost([]byte(line)); err == nil {
			return []byte(line), "", nil
		}
		h, err := bcrypt.GenerateFromPassword([]byte(line), bcrypt.DefaultCost)
		return h, "", err
	}
	raw := make([]byte, 15)
	rand.Read(raw)
	generated = base64.RawURLEncoding.EncodeToString(raw)
	h, err := bcrypt.GenerateFromPassword([]byte(generated), bcrypt.DefaultCost)
	return h, generated, err
}

// serveAdmin serves the console on its own listener (--admin-addr).
func serveAdmin(addr string, c *admin.Console, log *slog.Logger, errc chan<- error) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("--admin-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", c)
	mux.Handle("/admin", c)
	mux.Handle("/{$}", http.RedirectHandler("/admin/", http.StatusSeeOther))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { errc <- srv.Serve(ln) }()
	return srv, ln.Addr().String(), nil
}

func printAdminBanner(w io.Writer, o *options, addr, password string) {
	if !o.Admin {
		return
	}
	mode := ""
	if o.AdminReadOnly {
		mode = " (read-only)"
	}
	fmt.Fprintf(w, "  Admin:        http://%s/admin/%s\n", displayAddr(addr), mode)
	if password != "" {
		fmt.Fprintf(w, "                user %q, password %s (random, shown once: set --admin-password-hash to keep one)\n", o.AdminUser, password)
	}
}

func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// isHTTPS tells whether the browser used https: TLS here, or a trusted
// proxy's X-Forwarded-Proto.
func isHTTPS(trusted []string) func(*http.Request) bool {
	var prefixes []netip.Prefix
	for _, t := range trusted {
		prefixes = append(prefixes, netip.MustParsePrefix(t))
	}
	return func(r *http.Request) bool {
		if r.TLS != nil {
			return true
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return false
		}
		for _, p := range prefixes {
			if p.Contains(ip.Unmap()) {
				return strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
			}
		}
		return false
	}
}

// startSocketIOAdmin adds the official Socket.IO Admin UI's namespace, with
// the console's credentials and throttle (or, with --admin=false, the same
// credentials and a throttle of its own).
func startSocketIOAdmin(o *options, hub *signaling.Server, console *admin.Console, reg prometheus.Registerer,
	log *slog.Logger, ipOf func(*http.Request) string) (*sioadmin.Admin, error) {
	cfg := sioadmin.Config{
		Namespace: o.AdminSocketIONamespace,
		Mode:      sioadmin.Mode(o.AdminSocketIOMode),
		ReadOnly:  o.AdminReadOnly,
		Insecure:  o.AdminSocketIOInsecure,
		ClientIP: func(h signaling.Handshake) string {
			return ipOf(&http.Request{RemoteAddr: h.RemoteAddr, Header: h.Headers})
		},
		Logger: log.With("component", "sioadmin"),
	}
	if o.RedisURL != "" {
		// Nodes of a cluster may share a host name: the UI lists servers
		// by id (instrument() does the same for cluster workers).
		if host, err := os.Hostname(); err == nil {
			cfg.ServerID = host + "#" + strconv.Itoa(os.Getpid())
		}
	}
	switch {
	case o.AdminSocketIOInsecure:
	case console != nil:
		cfg.Auth = console
	default:
		hash, generated, err := adminPasswordHash(o)
		if err != nil {
			return nil, err
		}
		if generated != "" {
			return nil, errors.New("with --admin=false, set --admin-password-hash or --admin-password-file")
		}
		b, err := sioadmin.NewBcrypt(o.AdminUser, hash, 5, time.Minute)
		if err != nil {
			return nil, err
		}
		cfg.Auth = b
	}
	return sioadmin.New(cfg, hub, reg)
}
