package signaling

import "errors"

// Errors returned by the server's API.
var (
	ErrConfig          = errors.New("signaling: invalid config")
	ErrClosed          = errors.New("signaling: socket is disconnected")
	ErrServerClosed    = errors.New("signaling: server is shut down")
	ErrTooManyRooms    = errors.New("signaling: too many rooms for this socket")
	ErrAckTimeout      = errors.New("signaling: ack timed out")
	ErrReservedEvent   = errors.New("signaling: reserved event name")
	ErrInvalidArgument = errors.New("signaling: invalid argument")
)

// Disconnect reasons, as Socket.IO names them, plus Noom's own limits.
const (
	ReasonTransportClose     = "transport close"
	ReasonTransportError     = "transport error"
	ReasonPingTimeout        = "ping timeout"
	ReasonParseError         = "parse error"
	ReasonForcedClose        = "forced close"
	ReasonServerShuttingDown = "server shutting down"
	ReasonServerDisconnect   = "server namespace disconnect"
	ReasonClientDisconnect   = "client namespace disconnect"
	ReasonSlowConsumer       = "slow consumer"
	ReasonPayloadTooLarge    = "payload too large"
	ReasonConnectTimeout     = "connect timeout"
	ReasonDuplicatePoll      = "duplicate poll"
	ReasonForcedServerClose  = "forced server close"
)

// reasons is the closed set of reasons, for metric labels.
var reasons = []string{
	ReasonTransportClose, ReasonTransportError, ReasonPingTimeout, ReasonParseError,
	ReasonForcedClose, ReasonServerShuttingDown, ReasonServerDisconnect, ReasonClientDisconnect,
	ReasonSlowConsumer, ReasonPayloadTooLarge, ReasonConnectTimeout, ReasonDuplicatePoll,
	ReasonForcedServerClose,
}
