package redisadapter

import "errors"

var (
	// ErrMalformed: a message on the adapter's channels could not be
	// decoded, or an argument could not be encoded. The message is dropped
	// and counted (reason "malformed").
	ErrMalformed = errors.New("redisadapter: malformed message")
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("redisadapter: invalid config")
	// ErrClosed: the Cluster is closed.
	ErrClosed = errors.New("redisadapter: closed")
	// ErrUnavailable: Redis could not be asked how many nodes there are;
	// the operation was applied to this node only.
	ErrUnavailable = errors.New("redisadapter: redis unavailable")
)
