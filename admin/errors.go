package admin

import "errors"

// Errors returned by New.
var (
	// ErrConfig is wrapped by every configuration error.
	ErrConfig = errors.New("admin: bad config")
)

// apiError is the JSON body of every error answer: {"error": "..."}.
type apiError struct {
	Error string `json:"error"`
}
