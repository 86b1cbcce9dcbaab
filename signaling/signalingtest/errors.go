package signalingtest

import (
	"encoding/json"
	"errors"
	"fmt"
)

var (
	// ErrClosed is the error of a socket or connection this side closed.
	ErrClosed = errors.New("signalingtest: closed")
	// ErrDisconnected is the error of a socket the server disconnected
	// from its namespace (a DISCONNECT packet).
	ErrDisconnected = errors.New("signalingtest: disconnected by the server")
	// ErrServerClosed is the error of a connection the server closed with
	// an Engine.IO CLOSE packet or by ending the transport.
	ErrServerClosed = errors.New("signalingtest: connection closed by the server")
	// ErrProtocol is wrapped by the error of a connection that received
	// something Engine.IO v4 / Socket.IO v5 does not allow.
	ErrProtocol = errors.New("signalingtest: protocol error")
)

// ConnectError is the server's CONNECT_ERROR: a middleware refused the
// socket, or the namespace does not exist.
type ConnectError struct {
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *ConnectError) Error() string {
	if len(e.Data) > 0 {
		return fmt.Sprintf("signalingtest: connect error: %s (%s)", e.Message, e.Data)
	}
	return "signalingtest: connect error: " + e.Message
}
