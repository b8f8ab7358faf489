package index

import "errors"

// ErrCorrupt is returned when a stored record cannot be decoded.
var ErrCorrupt = errors.New("index: corrupt record")

// ErrLocked is returned by Open when another process holds the index file.
var ErrLocked = errors.New("index: file locked by another process")
