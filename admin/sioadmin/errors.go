package sioadmin

import "errors"

// Errors returned by New.
var (
	ErrConfig = errors.New("sioadmin: invalid config")
)

// Messages the admin namespace refuses a connection with. The Admin UI
// reopens its login form on exactly msgInvalidCredentials.
const (
	msgInvalidCredentials = "invalid credentials"
	msgThrottled          = "too many failed logins, retry later"
)
