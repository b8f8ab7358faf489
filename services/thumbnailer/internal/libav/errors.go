package libav

import "errors"

// ErrUndecodable is returned when an access unit does not yield a picture:
// corrupt, truncated, empty, or not the codec the decoder was opened for.
// Retrying the same bytes cannot help.
var ErrUndecodable = errors.New("libav: undecodable access unit")

// ErrUnsupportedCodec is returned by NewDecoder for a codec other than
// H.264 and H.265.
var ErrUnsupportedCodec = errors.New("libav: unsupported codec")

// ErrClosed is returned by a Decoder used after Close.
var ErrClosed = errors.New("libav: decoder closed")

// ErrInvalidSize is returned by EncodeJPEG for a non-positive size.
var ErrInvalidSize = errors.New("libav: invalid size")
