package engineio

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// ErrConfig wraps the errors of an invalid Config.
var ErrConfig = fmt.Errorf("engineio: invalid config")

// Config configures a Server. The zero value is valid: every field's comment
// names the default that a zero value stands for. signaling.Config documents
// the same fields for the Socket.IO server, which fills this in.
type Config struct {
	// Path is where the server answers, with a trailing slash.
	// Default "/engine.io/".
	Path string

	// PingInterval is how often the server pings each client. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long a client has to answer a ping. Default 20s.
	PingTimeout time.Duration
	// ReadyTimeout is how long a new session may stay before the layer
	// above calls Conn.Ready (Socket.IO: before the client joins a
	// namespace); it is then closed gracefully with ReasonConnectTimeout.
	// Default 45s.
	ReadyTimeout time.Duration
	// WriteTimeout bounds one batched write to a WebSocket. Default 10s.
	WriteTimeout time.Duration
	// ReadTimeout bounds reading one polling POST body. Default 10s.
	ReadTimeout time.Duration

	// MaxPayload is the largest message or polling body accepted, in
	// bytes. Default 1,000,000.
	MaxPayload int
	// MaxQueueBytes bounds the bytes queued for one client, both lanes and
	// what its writer holds (see Conn.Send). Default 2 MiB.
	MaxQueueBytes int
	// MaxQueueDelay bounds how long a broadcast-lane frame may wait for a
	// client before the client is cut off as a slow consumer. Default 2s.
	MaxQueueDelay time.Duration
	// MaxConnsPerIP bounds concurrent sessions from one remote IP. Default
	// 0: no limit. A negative value also means no limit.
	MaxConnsPerIP int
	// ClientIP tells the client's IP address. Default: the IP of the
	// connection's remote address.
	ClientIP func(*http.Request) string

	// AllowedOrigins lists the browser origins (scheme://host[:port]) that
	// may connect, for both CORS on polling and the WebSocket Origin check;
	// "*" allows every web origin, "null" the opaque one. The page's own
	// origin is always allowed. Default: same origin only.
	AllowedOrigins []string
	// DisableWebSocket turns the WebSocket transport off. Default false.
	DisableWebSocket bool
	// DisablePolling turns the HTTP long-polling transport off. Default false.
	DisablePolling bool
}

func (c *Config) setDefaults() {
	if c.Path == "" {
		c.Path = "/engine.io/"
	}
	if !strings.HasSuffix(c.Path, "/") {
		c.Path += "/"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.PingInterval, 25*time.Second)
	def(&c.PingTimeout, 20*time.Second)
	def(&c.ReadyTimeout, 45*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.ReadTimeout, 10*time.Second)
	def(&c.MaxQueueDelay, 2*time.Second)
	if c.MaxPayload == 0 {
		c.MaxPayload = 1_000_000
	}
	if c.MaxQueueBytes == 0 {
		c.MaxQueueBytes = 2 << 20
	}
	if c.ClientIP == nil {
		c.ClientIP = remoteIP
	}
}

func (c *Config) validate() error {
	if !strings.HasPrefix(c.Path, "/") {
		return fmt.Errorf("%w: Path %q must start with /", ErrConfig, c.Path)
	}
	for _, d := range []time.Duration{c.PingInterval, c.PingTimeout, c.ReadyTimeout, c.WriteTimeout, c.ReadTimeout, c.MaxQueueDelay} {
		if d < 0 {
			return fmt.Errorf("%w: negative duration %v", ErrConfig, d)
		}
	}
	if c.MaxPayload < 64 {
		return fmt.Errorf("%w: MaxPayload %d is below 64 bytes", ErrConfig, c.MaxPayload)
	}
	if c.MaxQueueBytes < c.MaxPayload {
		return fmt.Errorf("%w: MaxQueueBytes %d is below MaxPayload %d", ErrConfig, c.MaxQueueBytes, c.MaxPayload)
	}
	if c.DisablePolling && c.DisableWebSocket {
		return fmt.Errorf("%w: both transports are disabled", ErrConfig)
	}
	for _, o := range c.AllowedOrigins {
		if o != "*" && o != "null" && !strings.Contains(o, "://") {
			return fmt.Errorf("%w: allowed origin %q must be scheme://host[:port] or *", ErrConfig, o)
		}
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
