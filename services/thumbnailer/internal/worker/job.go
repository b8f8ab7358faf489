package worker

import (
	"fmt"
	"time"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/layout"
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
	st := ev.GetSettings()
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

// JPEG is one rendered JPEG and where it goes.
type JPEG struct {
	Key           string
	Data          []byte
	Width, Height int // actual pixels, after Fit
}

// Render decodes au with dec and encodes a JPEG per size of st (the
// source display size when st has none). The first size is the canonical
// layout.JPEG key; every other one is layout.SizedJPEG named after the
// configured box (for example SS-320x0.jpg for {width: 320}), so a client
// can ask for the size it configured; Width/Height carry the fitted size.
// sarNum/sarDen are used when the bitstream declares no sample aspect
// ratio. Errors wrap libav.ErrUndecodable when the keyframe is bad.
//
// The on-demand render service (bus.SubjectRender) renders through this
// too, from the keyframe inside the stored MP4.
func Render(dec *libav.Decoder, au []byte, sarNum, sarDen int, stream string, t time.Time, st *stillsv1.ThumbnailSettings) ([]JPEG, error) {
	f, err := dec.Decode(au)
	if err != nil {
		return nil, err
	}
	if n, d := f.SampleAspectRatio(); n > 0 && d > 0 {
		sarNum, sarDen = n, d
	}
	sizes := st.GetSizes()
	if len(sizes) == 0 {
		sizes = []*stillsv1.Size{{}}
	}
	out := make([]JPEG, 0, len(sizes))
	for i, box := range sizes {
		bw, bh := int(box.GetWidth()), int(box.GetHeight())
		w, h := libav.Fit(f.Width(), f.Height(), sarNum, sarDen, bw, bh)
		data, err := libav.EncodeJPEG(f, w, h, int(st.GetQuality()))
		if err != nil {
			return nil, fmt.Errorf("worker: jpeg %dx%d: %w", w, h, err)
		}
		key := layout.JPEG(stream, t)
		if i > 0 {
			key = layout.SizedJPEG(stream, t, bw, bh)
		}
		out = append(out, JPEG{Key: key, Data: data, Width: w, Height: h})
	}
	return out, nil
}
