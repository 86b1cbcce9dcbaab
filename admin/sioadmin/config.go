package sioadmin

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/noomrtc/noom/signaling"
)

// Mode selects what the admin namespace tells.
type Mode string

// Modes, as @socket.io/admin-ui names them.
const (
	// Production sends config and server_stats only: cheap at any scale.
	Production Mode = "production"
	// Development adds the sockets snapshot and the per-socket stream.
	Development Mode = "development"
)

// Config configures the admin namespace. The zero value is valid and
// refuses every login: set Auth, or Insecure.
type Config struct {
	// Namespace is the admin namespace. Default "/admin".
	Namespace string
	// Mode is Production or Development. Default Production.
	Mode Mode
	// ReadOnly registers no command (join, leave, _disconnect, emit) and
	// advertises none. Default false.
	ReadOnly bool
	// Auth checks user names and passwords. Nil with Insecure false refuses
	// everyone; nil with Insecure true accepts everyone.
	Auth Authenticator
	// Insecure accepts admins without credentials (the original's
	// auth: false). It excludes Auth. Default false.
	Insecure bool
	// SessionTTL is how long a session id (sent to the UI after a password
	// login, so that a page reload does not prompt again) stays valid.
	// Default 24h.
	SessionTTL time.Duration
	// MaxSessions bounds the session ids kept; the oldest goes first.
	// Default 1000.
	MaxSessions int
	// ServerID names this node in server_stats. Default the host name.
	ServerID string
	// StatsInterval is how often server_stats is sent. Default 2s.
	StatsInterval time.Duration
	// MaxSockets caps the all_sockets snapshot (the newest sockets first).
	// Default 2000.
	MaxSockets int
	// EventRate is how many per-socket events per second each admin socket
	// gets at most, bursts up to one second's worth; the rest is counted
	// as skippedEvents. Default 300.
	EventRate int
	// QueueSize bounds each admin socket's queue; when it is full the
	// oldest event is dropped and counted. Default 1024.
	QueueSize int
	// LargeBroadcast is the recipient count from which a broadcast's
	// event_sent is sent once (with the room as the socket id) rather than
	// once per recipient. Default 8.
	LargeBroadcast int
	// MaxArgsBytes is the largest event (encoded bytes) whose arguments
	// event_received and event_sent carry; a larger one carries a note of
	// its size instead. Default 4096.
	MaxArgsBytes int
	// ClientIP tells a socket's client IP from its handshake, for the
	// login throttle and the address the UI shows (behind a trusted proxy,
	// the one cmd/noom's --trusted-proxy resolves). Default: the host of
	// the connection's remote address.
	ClientIP func(signaling.Handshake) string
	// Logger logs warnings. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.Namespace == "" {
		c.Namespace = "/admin"
	}
	if !strings.HasPrefix(c.Namespace, "/") {
		c.Namespace = "/" + c.Namespace
	}
	if c.Mode == "" {
		c.Mode = Production
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 24 * time.Hour
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = 1000
	}
	if c.ServerID == "" {
		c.ServerID, _ = os.Hostname()
	}
	if c.StatsInterval == 0 {
		c.StatsInterval = 2 * time.Second
	}
	if c.MaxSockets == 0 {
		c.MaxSockets = 2000
	}
	if c.EventRate == 0 {
		c.EventRate = 300
	}
	if c.QueueSize == 0 {
		c.QueueSize = 1024
	}
	if c.LargeBroadcast == 0 {
		c.LargeBroadcast = 8
	}
	if c.MaxArgsBytes == 0 {
		c.MaxArgsBytes = 4096
	}
	if c.ClientIP == nil {
		c.ClientIP = func(h signaling.Handshake) string { return hostOnly(h.RemoteAddr) }
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c *Config) validate() error {
	switch {
	case c.Mode != Production && c.Mode != Development:
		return fmt.Errorf("%w: Mode %q is neither %q nor %q", ErrConfig, c.Mode, Production, Development)
	case c.Namespace == "/":
		return fmt.Errorf("%w: Namespace must not be the main namespace %q", ErrConfig, "/")
	case c.Auth != nil && c.Insecure:
		return fmt.Errorf("%w: Insecure and Auth exclude each other", ErrConfig)
	case c.SessionTTL < 0 || c.MaxSessions < 0 || c.StatsInterval < 0 || c.MaxSockets < 0 ||
		c.EventRate < 0 || c.QueueSize < 0 || c.LargeBroadcast < 0 || c.MaxArgsBytes < 0:
		return fmt.Errorf("%w: negative limit", ErrConfig)
	case c.StatsInterval < time.Second:
		return fmt.Errorf("%w: StatsInterval %v is below a second (the buckets are seconds)", ErrConfig, c.StatsInterval)
	}
	return nil
}
