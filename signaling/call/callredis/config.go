package callredis

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config configures a Registry. The zero value means the documented
// defaults.
type Config struct {
	// KeyPrefix starts every key the registry uses. Default "noom:call:".
	// Every node of a cluster must use the same prefix; a second cluster
	// on the same Redis needs its own.
	KeyPrefix string

	// NodeID names this node in Redis; it must be unique in the cluster
	// and have no newline. Default: 16 random hex digits.
	NodeID string

	// LeaseTTL is how long this node's members outlive it: the node renews
	// its lease every LeaseTTL/3, and the other nodes remove the members
	// of a node whose lease expired (checking every LeaseTTL/3). Default
	// 10s.
	LeaseTTL time.Duration

	// PollInterval is how often the node checks whether listed rooms
	// changed on another node (one GET). Default 250ms.
	PollInterval time.Duration

	// OpTimeout bounds each Redis call made for a socket (join, leave,
	// signal check, members, list). A call that fails or times out makes
	// the registry answer from this node's copy until Redis is back.
	// Default 1s.
	OpTimeout time.Duration

	// RetryInterval is how often a registry that lost Redis tries again.
	// Default 1s.
	RetryInterval time.Duration

	// Logger receives the registry's logs. Default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.KeyPrefix == "" {
		c.KeyPrefix = "noom:call:"
	}
	if c.NodeID == "" {
		var b [8]byte
		rand.Read(b[:])
		c.NodeID = hex.EncodeToString(b[:])
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&c.LeaseTTL, 10 * time.Second}, {&c.PollInterval, 250 * time.Millisecond},
		{&c.OpTimeout, time.Second}, {&c.RetryInterval, time.Second}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func (c *Config) validate() error {
	switch {
	case strings.Contains(c.NodeID, "\n"):
		return fmt.Errorf("%w: NodeID %q has a newline", ErrInvalidConfig, c.NodeID)
	case c.LeaseTTL < 30*time.Millisecond:
		return fmt.Errorf("%w: LeaseTTL %v: at least 30ms", ErrInvalidConfig, c.LeaseTTL)
	case c.PollInterval < 0, c.OpTimeout < 0, c.RetryInterval < 0:
		return fmt.Errorf("%w: negative duration", ErrInvalidConfig)
	}
	return nil
}
