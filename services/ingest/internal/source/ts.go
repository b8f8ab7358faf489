package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// parseTS reads the first H.264 or H.265 track of an MPEG-TS file. The
// access units keep the file's decode order and are paced by its decode
// timestamps (the presentation timestamps when there are no B-frames),
// unwrapped at 2^33 and forced increasing: a step back or a gap over 10 s
// (a concatenation or a broken file) counts as one frame.
func parseTS(data []byte) (*clip, error) {
	r := &mpegts.Reader{R: bytes.NewReader(data)}
	if err := r.Initialize(); err != nil {
		return nil, fmt.Errorf("%w: mpeg-ts: %v", ErrNoVideo, err)
	}
	c := &clip{}
	var track *mpegts.Track
	for _, tr := range r.Tracks() {
		switch tr.Codec.(type) {
		case *mpegts.CodecH264:
			c.codec = stillsv1.Codec_CODEC_H264
		case *mpegts.CodecH265:
			c.codec = stillsv1.Codec_CODEC_H265
		default:
			continue
		}
		track = tr
		break
	}
	if track == nil {
		return nil, fmt.Errorf("%w: no H.264 or H.265 track in the MPEG-TS", ErrNoVideo)
	}
	ts := &tsClock{frame: 90000 / defaultFPS}
	onAU := func(_, dts int64, au [][]byte) error {
		c.aus = append(c.aus, clipAU{nalus: au, keyframe: IsKeyframe(c.codec, au), at: ts.at(dts)})
		return nil
	}
	if c.codec == stillsv1.Codec_CODEC_H265 {
		r.OnDataH265(track, onAU)
	} else {
		r.OnDataH264(track, onAU)
	}
	r.OnDecodeError(func(error) {})
	for {
		err := r.Read()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: mpeg-ts: %v", ErrNoVideo, err)
		}
	}
	if !hasKeyframe(c.aus) {
		return nil, fmt.Errorf("%w: no keyframe in the MPEG-TS", ErrNoVideo)
	}
	c.loop = c.aus[len(c.aus)-1].at + ts.duration(ts.frame)
	return c, nil
}

// tsClock turns 33-bit 90 kHz timestamps into increasing offsets: each
// step is the unwrapped delta from the previous timestamp, or one frame
// (the latest good step) when that delta is not in (0, 10 s].
type tsClock struct {
	started bool
	prev    int64 // the previous raw timestamp, unwrapped
	out     int64 // the offset returned last, in ticks
	frame   int64 // the latest good step, in ticks
}

func (c *tsClock) at(raw int64) time.Duration {
	const wrap = int64(1) << 33
	if !c.started {
		c.started, c.prev = true, raw
		return 0
	}
	t := raw + (c.prev/wrap)*wrap
	if t < c.prev-wrap/2 {
		t += wrap
	} else if t > c.prev+wrap/2 {
		t -= wrap
	}
	d := t - c.prev
	c.prev = t
	if d <= 0 || d > 10*90000 {
		d = c.frame
	} else {
		c.frame = d
	}
	c.out += d
	return c.duration(c.out)
}
func (c *tsClock) duration(ticks int64) time.Duration {
	return time.Duration(ticks) * time.Second / 90000
}
