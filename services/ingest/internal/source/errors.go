package source

import "errors"

// Sentinel errors of the sources.
var (
	// ErrUnsupported is a URL scheme or file format this package cannot read.
	ErrUnsupported = errors.New("source: unsupported")
	// ErrNoVideo is a file or RTSP session without a usable H.264 or H.265 track.
	ErrNoVideo = errors.New("source: no H.264/H.265 video")
	// ErrFileTooLarge is a file:// source over MaxFileBytes (files are looped
	// from memory).
	ErrFileTooLarge = errors.New("source: file too large")
)
