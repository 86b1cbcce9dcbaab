package redisadapter

import (
	"fmt"
	"time"
)

// Config configures a Cluster. Its zero value means the documented
// defaults, which match @socket.io/redis-adapter's.
type Config struct {
	// KeyPrefix starts every channel name, as the Node adapter's "key"
	// option: "<prefix>#<nsp>#" and so on. Default "socket.io". Every node
	// of a cluster, Node or Noom, must use the same prefix.
	KeyPrefix string

	// RequestTimeout bounds how long FetchSockets, AllRooms and
	// ServerSideEmit with acks wait for the other nodes when the caller's
	// context has no deadline (Node's requestsTimeout). Default 5s.
	RequestTimeout time.Duration

	// HeartbeatInterval is how often this node announces itself on the
	// Noom-private channel "<prefix>-noom#heartbeat#" (Node nodes never
	// see it), which feeds Nodes and the noom_redis_nodes gauge. Default
	// 5s.
	HeartbeatInterval time.Duration

	// HeartbeatTimeout: a node not heard from for this long is dropped
	// from Nodes. Default 3 × HeartbeatInterval.
	HeartbeatTimeout time.Duration

	// PublishQueue is how many messages may wait to be published; past it
	// a message is dropped and counted (reason "queue_full"), so that a
	// slow or absent Redis never blocks the hub. Default 4096.
	PublishQueue int

	// ReceiveQueue is how many received messages may wait for this node
	// to apply them; past it a message is dropped and counted (reason
	// "queue_full"). Default 4096.
	ReceiveQueue int

	// PublishTimeout bounds one PUBLISH; a publish that fails is dropped
	// and counted (reason "redis_error"). Default 2s.
	PublishTimeout time.Duration
}

func (c *Config) validate() error {
	if c.KeyPrefix == "" {
		c.KeyPrefix = "socket.io"
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = 5 * time.Second
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = 3 * c.HeartbeatInterval
	}
	if c.PublishQueue == 0 {
		c.PublishQueue = 4096
	}
	if c.ReceiveQueue == 0 {
		c.ReceiveQueue = 4096
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 2 * time.Second
	}
	switch {
	case c.RequestTimeout < 0, c.HeartbeatInterval < 0, c.PublishTimeout < 0:
		return fmt.Errorf("%w: negative duration", ErrInvalidConfig)
	case c.HeartbeatTimeout <= c.HeartbeatInterval:
		return fmt.Errorf("%w: HeartbeatTimeout %v must exceed HeartbeatInterval %v", ErrInvalidConfig, c.HeartbeatTimeout, c.HeartbeatInterval)
	case c.PublishQueue < 0, c.ReceiveQueue < 0:
		return fmt.Errorf("%w: negative queue size", ErrInvalidConfig)
	}
	return nil
}
