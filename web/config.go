package web

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTitle         = "Noom"
	DefaultMaxRoomSize   = 8
	DefaultSignalingPath = "/socket.io/"
	DefaultStatsInterval = 5 * time.Second
)

// Protocol limits shared with the call protocol; the pages enforce them in
// the browser and the hub enforces them again.
const (
	MaxRoomNameLen = 64   // runes
	MaxNicknameLen = 32   // runes
	MaxChatLen     = 2000 // runes
	MaxPasscodeLen = 64   // runes
)

// Config configures the web app. The zero value is valid and means the
// documented defaults.
type Config struct {
	// Title is the product name shown in page titles and the header.
	// Default "Noom". At most 64 characters.
	Title string

	// MaxRoomSize is the room capacity shown in the UI ("3 / 8"). It is for
	// display only: the hub enforces its own limit. Default 8.
	MaxRoomSize int

	// SignalingPath is the URL path the Socket.IO server is mounted at, with
	// a leading and a trailing slash. Default "/socket.io/". The browser
	// client library is served at SignalingPath + "socket.io.js".
	SignalingPath string

	// HideRoomList leaves the public room list off the home page, for a
	// hub whose call protocol has it turned off (call.Config.HideRoomList).
	// Default false: the home page lists and follows the public rooms.
	HideRoomList bool

	// StatsInterval is how often the call page sends call-stats for each
	// peer. Default 5s; at least 1s.
	StatsInterval time.Duration

	// Logger receives errors that happen while rendering a page.
	// Default slog.Default().
	Logger *slog.Logger
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.Title == "" {
		c.Title = DefaultTitle
	}
	if c.MaxRoomSize == 0 {
		c.MaxRoomSize = DefaultMaxRoomSize
	}
	if c.SignalingPath == "" {
		c.SignalingPath = DefaultSignalingPath
	}
	if c.StatsInterval == 0 {
		c.StatsInterval = DefaultStatsInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// validate checks a Config that already has its defaults applied.
func (c Config) validate() error {
	if n := utf8.RuneCountInString(c.Title); n > 64 || !utf8.ValidString(c.Title) {
		return fmt.Errorf("%w: Title must be valid UTF-8 of at most 64 characters", ErrInvalidConfig)
	}
	if c.MaxRoomSize < 1 || c.MaxRoomSize > 1000 {
		return fmt.Errorf("%w: MaxRoomSize %d is outside 1..1000", ErrInvalidConfig, c.MaxRoomSize)
	}
	p := c.SignalingPath
	if len(p) < 3 || !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") ||
		strings.ContainsAny(p, "?#%\\ \t\r\n\"'<>") || strings.Contains(p, "//") ||
		p == "/static/" || p == "/room/" {
		return fmt.Errorf("%w: SignalingPath %q must look like \"/socket.io/\"", ErrInvalidConfig, p)
	}
	if c.StatsInterval < time.Second {
		return fmt.Errorf("%w: StatsInterval %v is below 1s", ErrInvalidConfig, c.StatsInterval)
	}
	return nil
}
