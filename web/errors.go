package web

import "errors"

var (
	// ErrInvalidConfig is wrapped by the error New returns for a Config that
	// fails validation.
	ErrInvalidConfig = errors.New("web: invalid config")

	// ErrInvalidRoomName is wrapped by the error ValidateRoomName returns.
	ErrInvalidRoomName = errors.New("web: invalid room name")
)
