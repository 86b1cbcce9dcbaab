package admin

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/noomrtc/noom/admin/source"
)

// Config configures the console. The zero value is not enough: Hub and
// PasswordHash are required; every other field's comment names its default.
type Config struct {
	// Hub is the signaling hub to show. Required.
	Hub source.Hub
	// Actions change the hub. Default nil: the console is read-only.
	Actions source.Actions
	// TURN shows TURN allocations. Default nil: no TURN page data.
	TURN source.TURN
	// Cluster shows the cluster-wide view (nodes, rooms and members on
	// every node). Default nil: this node alone.
	Cluster source.Cluster
	// Calls shows call-quality reports. Default nil: no calls page data.
	Calls source.Calls

	// User is the login name. Default "admin".
	User string
	// PasswordHash is the bcrypt hash of the password ($2a$, $2b$ or $2y$).
	// Required.
	PasswordHash []byte

	// ReadOnly hides and refuses every action. Default false.
	ReadOnly bool
	// ShowPayloads shows event payloads in the message flow, truncated to
	// PayloadLimit. Default false: payloads carry users' IP addresses.
	ShowPayloads bool
	// PayloadLimit is the most payload bytes shown per event. Default 256.
	PayloadLimit int

	// Version is shown on the overview. Default "dev".
	Version string

	// RingSize is how many recent events the server keeps for the message
	// flow. Default 1000.
	RingSize int
	// ViewerBuffer is how many events one live viewer may lag behind
	// before the oldest are skipped and counted. Default 512.
	ViewerBuffer int
	// ViewerRate is how many events a second one live viewer is sent at
	// most (after its filters), bursts up to one second's worth; the rest
	// are counted as skipped ("1,234 events not shown"), so that watching
	// a busy hub costs it little. Default 1000; -1 means no limit.
	ViewerRate int
	// MaxViewers bounds concurrent live viewers. Default 32.
	MaxViewers int
	// History is how long overview charts reach back, sampled every
	// second. Default 10 minutes.
	History time.Duration

	// SessionIdle ends a browser session unused this long. Default 30 min.
	SessionIdle time.Duration
	// SessionMax ends a browser session this long after login. Default 12 h.
	SessionMax time.Duration
	// MaxSessions bounds live sessions; the oldest is ended. Default 256.
	MaxSessions int

	// LoginFailures is how many failed logins one client IP may make per
	// LoginWindow before getting 429. Default 5.
	LoginFailures int
	// LoginWindow is the throttle window. Default 1 minute.
	LoginWindow time.Duration
	// GlobalLoginFailures bounds failed logins from all IPs per
	// LoginWindow. Default 100.
	GlobalLoginFailures int
	// BasicCacheTTL is how long a checked Basic credential is remembered
	// so bcrypt does not run per request. Default 10 s; negative: never.
	BasicCacheTTL time.Duration

	// ClientIP returns a request's client IP. Default: the connection's
	// remote address.
	ClientIP func(*http.Request) string
	// IsHTTPS tells whether the browser used https (for Secure cookies and
	// the same-origin check). Default: r.TLS != nil.
	IsHTTPS func(*http.Request) bool

	// Logger receives audit and error logs. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.User == "" {
		c.User = "admin"
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	def(&c.PayloadLimit, 256)
	def(&c.RingSize, 1000)
	def(&c.ViewerBuffer, 512)
	def(&c.MaxViewers, 32)
	def(&c.ViewerRate, 1000)
	def(&c.MaxSessions, 256)
	def(&c.LoginFailures, 5)
	def(&c.GlobalLoginFailures, 100)
	defDur(&c.History, 10*time.Minute)
	defDur(&c.SessionIdle, 30*time.Minute)
	defDur(&c.SessionMax, 12*time.Hour)
	defDur(&c.LoginWindow, time.Minute)
	defDur(&c.BasicCacheTTL, 10*time.Second)
	if c.ClientIP == nil {
		c.ClientIP = remoteIP
	}
	if c.IsHTTPS == nil {
		c.IsHTTPS = func(r *http.Request) bool { return r.TLS != nil }
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c *Config) validate() error {
	if c.Hub == nil {
		return fmt.Errorf("%w: Hub is required", ErrConfig)
	}
	if _, err := bcrypt.Cost(c.PasswordHash); err != nil {
		return fmt.Errorf("%w: PasswordHash is not a bcrypt hash: %v", ErrConfig, err)
	}
	for name, v := range map[string]int{"PayloadLimit": c.PayloadLimit, "RingSize": c.RingSize,
		"ViewerBuffer": c.ViewerBuffer, "MaxViewers": c.MaxViewers, "MaxSessions": c.MaxSessions,
		"LoginFailures": c.LoginFailures, "GlobalLoginFailures": c.GlobalLoginFailures} {
		if v < 0 {
			return fmt.Errorf("%w: %s must not be negative", ErrConfig, name)
		}
	}
	if c.ViewerRate < -1 {
		return fmt.Errorf("%w: ViewerRate must be positive, or -1 for no limit", ErrConfig)
	}
	if c.History < time.Second || c.SessionIdle < 0 || c.SessionMax < 0 || c.LoginWindow < 0 {
		return fmt.Errorf("%w: durations must be positive (History at least 1s)", ErrConfig)
	}
	return nil
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
