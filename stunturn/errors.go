package stunturn

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidConfig wraps every error that New returns for a Config it
	// rejects, and ParsePortRange's errors.
	ErrInvalidConfig = errors.New("stunturn: invalid config")

	// ErrMalformedUsername is returned for a username that is not of the
	// TURN REST API form "<expiry-unix>:<user>" (or a bare "<expiry-unix>").
	ErrMalformedUsername = errors.New("stunturn: username is not <expiry-unix>:<user>")

	// ErrCredentialExpired is returned for a well-formed credential whose
	// expiry time has passed.
	ErrCredentialExpired = errors.New("stunturn: credential expired")

	// ErrBadPassword is returned when the password is not the HMAC of the
	// username under the secret.
	ErrBadPassword = errors.New("stunturn: wrong password")

	// ErrCloseTimeout is returned by Close when goroutines of pion/turn
	// did not finish in time after every socket was closed.
	ErrCloseTimeout = errors.New("stunturn: goroutines did not finish after close")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}
