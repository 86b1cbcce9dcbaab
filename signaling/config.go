package signaling

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/noomrtc/noom/signaling/engineio"
)

// Config configures a Server. The zero value is valid: every field's comment
// names the default that a zero value stands for.
type Config struct {
	// Path is where the server answers, with a trailing slash.
	// Default "/socket.io/".
	Path string

	// PingInterval is how often the server pings each client. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long a client has to answer a ping. Default 20s.
	PingTimeout time.Duration
	// ConnectTimeout is how long a new Engine.IO session may stay without
	// joining any namespace before it is closed. Default 45s.
	ConnectTimeout time.Duration
	// WriteTimeout bounds one batched write to a WebSocket. Default 10s.
	WriteTimeout time.Duration
	// ReadTimeout bounds reading one polling POST body. Default 10s.
	ReadTimeout time.Duration

	// MaxPayload is the largest Engine.IO message or polling body accepted,
	// in bytes, as Socket.IO's maxHttpBufferSize. Default 1,000,000.
	MaxPayload int
	// MaxQueueBytes bounds the bytes queued for one client, both lanes and
	// what its writer holds; a client whose queue would exceed it is
	// disconnected ("slow consumer"). A single packet bigger than this is
	// not sent (counted as noom_signaling_oversize_dropped_total); the
	// client stays. Default 2 MiB.
	MaxQueueBytes int
	// MaxQueueDelay bounds how long a broadcast may wait for a client: a
	// client whose oldest unwritten broadcast is older is disconnected
	// ("slow consumer"). Control packets, acks and 1:1 messages go first
	// and are bounded by WriteTimeout. Default 2s.
	MaxQueueDelay time.Duration
	// MaxRoomsPerSocket bounds the rooms one socket may be in, its own
	// private room included. Default 64.
	MaxRoomsPerSocket int
	// MaxConnsPerIP bounds concurrent Engine.IO sessions from one remote IP.
	// Default 0: no limit. A negative value also means no limit.
	MaxConnsPerIP int
	// ClientIP tells the client's IP address for MaxConnsPerIP and logs.
	// Default: the IP of the connection's remote address. Behind a reverse
	// proxy, set it to read the proxy's forwarding header, trusting only
	// what the proxy itself appends.
	ClientIP func(*http.Request) string
	// MaxAttachments bounds the binary attachments of one packet. Default 10.
	MaxAttachments int
	// MaxNamespaces bounds the namespaces one connection may join. Default 16.
	MaxNamespaces int
	// MaxPendingBytesPerIP bounds the binary attachments one client IP's
	// connections may have received for packets not yet complete, all
	// together; a connection past it is closed ("parse error").
	// Default 8 MiB.
	MaxPendingBytesPerIP int
	// MaxAuthBytes bounds the CONNECT auth payload; a bigger one is refused
	// with a connect error. Default 4096.
	MaxAuthBytes int
	// KeepHeaders names the handshake request headers a connection keeps
	// for its life (Socket.Handshake, middlewares, admin views); the rest,
	// cookies and credentials among them, are dropped after the handshake,
	// and at most 4 KB is kept. Default: User-Agent, Origin, Accept-Language,
	// Referer, X-Forwarded-For, X-Forwarded-Proto, X-Real-Ip. Add Cookie
	// or Authorization if a middleware authenticates with them.
	KeepHeaders []string

	// AllowedOrigins lists the browser origins (scheme://host[:port]) that
	// may connect, for both CORS on polling and the WebSocket Origin check.
	// "*" allows every web origin (not the opaque "null", which only "null"
	// itself allows). The page's own origin is always allowed. Default:
	// same origin only; requests without
	// an Origin header (non-browser clients) are always allowed.
	AllowedOrigins []string
	// DisableWebSocket turns the WebSocket transport off. Default false.
	DisableWebSocket bool
	// DisablePolling turns the HTTP long-polling transport off. Default false.
	DisablePolling bool

	// Adapter makes the adapter of each namespace, given the namespace's
	// local side (see Adapter and Local). Default: NewMemoryAdapter, for a
	// single node.
	Adapter func(Local) Adapter

	// Logger receives the server's logs. Default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Path == "" {
		c.Path = "/socket.io/" // the transport adds a missing trailing slash
	}
	defInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defInt(&c.MaxRoomsPerSocket, 64)
	defInt(&c.MaxAttachments, 10)
	defInt(&c.MaxNamespaces, 16)
	defInt(&c.MaxAuthBytes, 4096)
	defInt(&c.MaxPendingBytesPerIP, 8<<20)
	if c.KeepHeaders == nil {
		c.KeepHeaders = []string{"User-Agent", "Origin", "Accept-Language", "Referer", "X-Forwarded-For", "X-Forwarded-Proto", "X-Real-Ip"}
	}
	if c.Adapter == nil {
		c.Adapter = func(l Local) Adapter { return NewMemoryAdapter(l) }
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// engine is the transport's part of the configuration.
func (c *Config) engine() engineio.Config {
	return engineio.Config{
		Path:             c.Path,
		PingInterval:     c.PingInterval,
		PingTimeout:      c.PingTimeout,
		ReadyTimeout:     c.ConnectTimeout,
		WriteTimeout:     c.WriteTimeout,
		ReadTimeout:      c.ReadTimeout,
		MaxPayload:       c.MaxPayload,
		MaxQueueBytes:    c.MaxQueueBytes,
		MaxQueueDelay:    c.MaxQueueDelay,
		MaxConnsPerIP:    c.MaxConnsPerIP,
		ClientIP:         c.ClientIP,
		AllowedOrigins:   c.AllowedOrigins,
		DisableWebSocket: c.DisableWebSocket,
		DisablePolling:   c.DisablePolling,
	}
}

// setEngine fills in the transport's fields from its effective
// configuration, defaults included.
func (c *Config) setEngine(e engineio.Config) {
	c.Path = e.Path
	c.PingInterval, c.PingTimeout, c.ConnectTimeout = e.PingInterval, e.PingTimeout, e.ReadyTimeout
	c.WriteTimeout, c.ReadTimeout = e.WriteTimeout, e.ReadTimeout
	c.MaxPayload, c.MaxQueueBytes, c.MaxQueueDelay = e.MaxPayload, e.MaxQueueBytes, e.MaxQueueDelay
	c.ClientIP = e.ClientIP
}

// validate checks the Socket.IO layer's fields; the transport checks its
// own (engineio.Config).
func (c *Config) validate() error {
	if c.MaxRoomsPerSocket < 1 || c.MaxAttachments < 0 || c.MaxNamespaces < 1 || c.MaxAuthBytes < 2 {
		return fmt.Errorf("%w: limits must be positive", ErrConfig)
	}
	return nil
}
