package call

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/noomrtc/noom/signaling"
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

	// JoinsPerSecond is the sustained rate of membership changes (joins
	// that enter a room, and leaves) of one socket. Default 0.5.
	JoinsPerSecond float64
	// JoinBurst is how many membership changes a socket may make at once.
	// Default 10.
	JoinBurst int
	// IPJoinsPerSecond is the sustained rate of membership changes of all
	// the sockets of one client IP together. Default 5.
	IPJoinsPerSecond float64
	// IPJoinBurst is the burst of IPJoinsPerSecond. Default 50.
	IPJoinBurst int
	// IPCreatesPerSecond is the sustained rate at which the sockets of one
	// client IP may create rooms (join a room nobody is in). Default 0.2.
	IPCreatesPerSecond float64
	// IPCreateBurst is the burst of IPCreatesPerSecond. Default 20.
	IPCreateBurst int
	// PasscodeFailuresPerMinute is how many wrong room passcodes one client
	// IP may send a minute, sustained; past it joins to rooms with a
	// passcode fail with rate_limited. Default 10.
	PasscodeFailuresPerMinute float64
	// PasscodeFailureBurst is the burst of PasscodeFailuresPerMinute.
	// Default 5.
	PasscodeFailureBurst int

	// HideRoomList turns the public room list off: "rooms" and
	// "rooms:subscribe" fail with unavailable, and every room is unlisted.
	// Default false (rooms are listed unless created unlisted).
	HideRoomList bool
	// RoomListSize caps the rooms in a room list: the largest listed rooms,
	// with the total count beside them. Default 50.
	RoomListSize int
	// RoomsPushInterval is the least time between two room-list pushes to
	// subscribers, and how old the list served to "rooms" may be.
	// Default 250ms.
	RoomsPushInterval time.Duration

	// MaxStatsPeers caps the peers one socket keeps a call-stats report for.
	// Default 32.
	MaxStatsPeers int

	// ClientIP tells the client IP of a socket, for the per-IP limits. It
	// runs once per connection. Default: the host of Handshake.RemoteAddr.
	// Behind a reverse proxy, give it the hub's trusted-proxy logic.
	ClientIP func(signaling.Handshake) string

	// Registry keeps the call rooms (members, passcodes, the room list).
	// Default: a MemoryRegistry, this node's rooms only; package callredis
	// shares them between the nodes of a cluster. The Service does not
	// close it.
	Registry Registry

	// Logger receives the service's logs. Default slog.Default().
	Logger *slog.Logger
}

// Limits of the protocol's values.
const (
	MaxRoomNameLen = 64       // characters
	MaxNameLen     = 32       // characters
	MaxPasscodeLen = 64       // characters
	MaxChatLen     = 2000     // characters
	MaxSignalBytes = 64 << 10 // bytes of a signal's data (an SDP)
)

func (c *Config) setDefaults() {
	setDefault(&c.MaxRoomSize, 8)
	setDefault(&c.MaxRoomsPerSocket, 4)
	setDefault(&c.EventsPerSecond, 20)
	setDefault(&c.Burst, 60)
	setDefault(&c.JoinsPerSecond, 0.5)
	setDefault(&c.JoinBurst, 10)
	setDefault(&c.IPJoinsPerSecond, 5)
	setDefault(&c.IPJoinBurst, 50)
	setDefault(&c.IPCreatesPerSecond, 0.2)
	setDefault(&c.IPCreateBurst, 20)
	setDefault(&c.PasscodeFailuresPerMinute, 10)
	setDefault(&c.PasscodeFailureBurst, 5)
	setDefault(&c.RoomListSize, 50)
	setDefault(&c.RoomsPushInterval, 250*time.Millisecond)
	setDefault(&c.MaxStatsPeers, 32)
	if c.ClientIP == nil {
		c.ClientIP = remoteHost
	}
	if c.Registry == nil {
		c.Registry = NewMemoryRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func setDefault[T int | float64 | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

func remoteHost(h signaling.Handshake) string {
	if host, _, err := net.SplitHostPort(h.RemoteAddr); err == nil {
		return host
	}
	return h.RemoteAddr
}

func (c *Config) validate() error {
	if c.MaxRoomSize < 2 || c.MaxRoomsPerSocket < 1 || c.EventsPerSecond <= 0 || c.Burst < 1 || c.RoomsPushInterval < 0 {
		return fmt.Errorf("call: invalid config: room size %d, rooms per socket %d, rate %v, burst %d, push interval %v",
			c.MaxRoomSize, c.MaxRoomsPerSocket, c.EventsPerSecond, c.Burst, c.RoomsPushInterval)
	}
	if c.JoinsPerSecond <= 0 || c.JoinBurst < 1 || c.IPJoinsPerSecond <= 0 || c.IPJoinBurst < 1 ||
		c.IPCreatesPerSecond <= 0 || c.IPCreateBurst < 1 || c.PasscodeFailuresPerMinute <= 0 || c.PasscodeFailureBurst < 1 {
		return fmt.Errorf("call: invalid config: join, create and passcode-failure rates must be positive, bursts at least 1")
	}
	if c.RoomListSize < 1 || c.RoomListSize > 1000 || c.MaxStatsPeers < 1 {
		return fmt.Errorf("call: invalid config: room list size %d (1..1000), stats peers %d (at least 1)", c.RoomListSize, c.MaxStatsPeers)
	}
	return nil
}
