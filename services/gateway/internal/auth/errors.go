package auth

import "errors"

// Refusals. Each is a denial; the API maps ErrUnavailable to 503 and the
// others to 403.
var (
	ErrMissing     = errors.New("play token required")
	ErrMalformed   = errors.New("malformed play token")
	ErrExpired     = errors.New("play token expired")
	ErrForged      = errors.New("play token not valid for this stream")
	ErrDenied      = errors.New("auth backend denied access")
	ErrUnavailable = errors.New("auth backend unavailable")
)
