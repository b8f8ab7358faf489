package worker

import (
	"fmt"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/streamname"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer/internal/libav"
)

// Limits on what an event may ask for.
const (
	MaxSizes = 8    // sizes per stream
	MaxSide  = 8192 // pixels, per side of a size box
)

// validate checks an event against its subject and the limits.
func validate(ev *stillsv1.SegmentStarted, subject string) error {
	if err := streamname.Validate(ev.GetStream()); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if s, err := bus.StreamFromSubject(subject); err != nil || s != ev.GetStream() {
		return fmt.Errorf("%w: stream %q does not match subject %q", ErrInvalidEvent, ev.GetStream(), subject)
	}
	if ev.GetTimeMs() <= 0 {
		return fmt.Errorf("%w: time_ms %d", ErrInvalidEvent, ev.GetTimeMs())
	}
	if len(ev.GetKeyframe()) == 0 {
		return fmt.Errorf("%w: no keyframe", ErrInvalidEvent)
	}
	if _, err := decoderCodec(ev.GetCodec()); err != nil {
		return err
	}
	return ValidateSettings(ev.GetSettings())
}

// ValidateSettings checks thumbnail settings against the limits.
func ValidateSettings(st *stillsv1.ThumbnailSettings) error {
	if n := len(st.GetSizes()); n > MaxSizes {
		return fmt.Errorf("%w: %d sizes, at most %d", ErrInvalidEvent, n, MaxSizes)
	}
	for _, sz := range st.GetSizes() {
		if sz.GetWidth() > MaxSide || sz.GetHeight() > MaxSide {
			return fmt.Errorf("%w: size %dx%d over %d", ErrInvalidEvent, sz.GetWidth(), sz.GetHeight(), MaxSide)
		}
	}
	if q := st.GetQuality(); q > libav.MaxQuality {
		return fmt.Errorf("%w: quality %d", ErrInvalidEvent, q)
	}
	return nil
}

func decoderCodec(c stillsv1.Codec) (libav.Codec, error) {
	switch c {
	case stillsv1.Codec_CODEC_H264:
		return libav.H264, nil
	case stillsv1.Codec_CODEC_H265:
		return libav.H265, nil
	}
	return 0, fmt.Errorf("%w: codec %v", ErrInvalidEvent, c)
}

// wantsJPEG reports whether the mode asks for JPEGs at segment time.
func wantsJPEG(st *stillsv1.ThumbnailSettings) bool {
	switch st.GetMode() {
	case stillsv1.ThumbnailMode_THUMBNAIL_MODE_DISABLED, stillsv1.ThumbnailMode_THUMBNAIL_MODE_ONDEMAND:
		return false
	}
	return true
}
