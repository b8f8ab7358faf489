package ingest

import "errors"

// Sentinel errors of the service.
var (
	// ErrInvalidStream is a stream SetStreams cannot run (invalid or
	// duplicate); the error says which and why.
	ErrInvalidStream = errors.New("ingest: invalid stream")
)

// ErrRunTwice is a second call of (*Service).Run.
var ErrRunTwice = errors.New("ingest: Run called twice")
