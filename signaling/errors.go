package signaling

import (
	"errors"

	"github.com/noomrtc/noom/signaling/engineio"
)

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

// Disconnect reasons, as Socket.IO names them, plus Noom's own limits. A
// session's reasons are the transport's (engineio); a socket may also
// leave its namespace alone.
const (
	ReasonTransportClose     = engineio.ReasonTransportClose
	ReasonTransportError     = engineio.ReasonTransportError
	ReasonPingTimeout        = engineio.ReasonPingTimeout
	ReasonParseError         = engineio.ReasonParseError
	ReasonServerShuttingDown = engineio.ReasonServerShuttingDown
	ReasonSlowConsumer       = engineio.ReasonSlowConsumer
	ReasonPayloadTooLarge    = engineio.ReasonPayloadTooLarge
	ReasonConnectTimeout     = engineio.ReasonConnectTimeout
	ReasonDuplicatePoll      = engineio.ReasonDuplicatePoll
	ReasonForcedServerClose  = engineio.ReasonForcedServerClose
	ReasonForcedClose        = "forced close"
	ReasonServerDisconnect   = "server namespace disconnect"
	ReasonClientDisconnect   = "client namespace disconnect"
)
