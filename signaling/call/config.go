package call

import (
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Service. The zero value means the documented defaults.
type Config struct {
	// MaxRoomSize caps the people in one room. Default 8.
	MaxRoomSize int
	// MaxRoomsPerSocket caps the call rooms one socket may be in. Default 4.
	MaxRoomsPerSocket int
	// EventsPerSecond is each socket's sustained event rate. Default 20.
	EventsPerSecond float64
	// Burst is how many events a socket may send at once above the rate.
	// Default 60 (an ICE gathering burst of candidates fits).
	Burst int
	// RoomsPushInterval is the least time between two "rooms" pushes.
	// Default 250ms.
	RoomsPushInterval time.Duration
	// Logger receives the service's logs. Default slog.Default().
	Logger *slog.Logger
}

// Limits of the protocol's values.
const (
	MaxRoomNameLen = 64       // characters
	MaxNameLen     = 32       // characters
	MaxChatLen     = 2000     // characters
	MaxSignalBytes = 64 << 10 // bytes of a signal's data (an SDP)
)

func (c *Config) setDefaults() {
	if c.MaxRoomSize == 0 {
		c.MaxRoomSize = 8
	}
	if c.MaxRoomsPerSocket == 0 {
		c.MaxRoomsPerSocket = 4
	}
	if c.EventsPerSecond == 0 {
		c.EventsPerSecond = 20
	}
	if c.Burst == 0 {
		c.Burst = 60
	}
	if c.RoomsPushInterval == 0 {
		c.RoomsPushInterval = 250 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func (c *Config) validate() error {
	if c.MaxRoomSize < 2 || c.MaxRoomsPerSocket < 1 || c.EventsPerSecond <= 0 || c.Burst < 1 || c.RoomsPushInterval < 0 {
		return fmt.Errorf("call: invalid config: room size %d, rooms per socket %d, rate %v, burst %d, push interval %v",
			c.MaxRoomSize, c.MaxRoomsPerSocket, c.EventsPerSecond, c.Burst, c.RoomsPushInterval)
	}
	return nil
}
