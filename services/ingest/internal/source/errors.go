package source

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

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

// Unreachable reports whether err means the camera is not there right now
// (connection refused or reset, timeouts, end of stream, the server has no
// such stream or is unavailable): the stream is offline and comes back by
// itself. Anything else (bad credentials, no usable video, protocol
// garbage) is an error an operator has to look at. Both are retried.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var bad liberrors.ErrClientBadStatusCode
	if errors.As(err, &bad) {
		switch bad.Code {
		case base.StatusNotFound, base.StatusServiceUnavailable, base.StatusSessionNotFound, base.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var ne net.Error
	var te liberrors.ErrClientTCPTimeout
	var ue liberrors.ErrClientUDPTimeout
	var rt liberrors.ErrClientRequestTimedOut
	return errors.As(err, &ne) || errors.As(err, &te) || errors.As(err, &ue) || errors.As(err, &rt) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, os.ErrDeadlineExceeded)
}
