package callredis

import "errors"

var (
	// ErrMalformed: a value or script reply read from Redis could not be
	// decoded; the operation fails and is counted as a Redis error.
	ErrMalformed = errors.New("callredis: malformed value in redis")
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("callredis: invalid config")
	// ErrInvalidName: a room, socket id or name has a newline, which the
	// stored values use as separator (the call protocol never lets one
	// through).
	ErrInvalidName = errors.New("callredis: newline in a room, id or name")
)
