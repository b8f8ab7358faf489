// Package mp4 wraps one keyframe access unit into a one-frame MP4
// (avc1/hvc1), without decoding it. Pure Go, on mediacommon's pmp4.
package mp4

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	cmp4 "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// timeScale and frameDuration: the frame lasts 1/25 s.
const (
	timeScale     = 90000
	frameDuration = timeScale / 25
)

// Mux returns a one-frame MP4 of au, an Annex-B access unit. Parameter
// sets are taken from au, or from paramSets (without start codes) when au
// lacks them; they go into the sample description (avcC/hvcC), and the
// sample keeps the other NAL units (access unit delimiters dropped).
func Mux(codec stillsv1.Codec, au []byte, paramSets [][]byte) ([]byte, error) {
	var nalus h264.AnnexB
	if err := nalus.Unmarshal(au); err != nil {
		return nil, fmt.Errorf("%w: annex-b: %v", ErrInvalid, err)
	}
	var (
		track  cmp4.Codec
		sample [][]byte
		err    error
	)
	switch codec {
	case stillsv1.Codec_CODEC_H264:
		track, sample, err = splitH264(nalus, paramSets)
	case stillsv1.Codec_CODEC_H265:
		track, sample, err = splitH265(nalus, paramSets)
	default:
		return nil, fmt.Errorf("%w: codec %v", ErrInvalid, codec)
	}
	if err != nil {
		return nil, err
	}
	payload, err := h264.AVCC(sample).Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: avcc: %v", ErrInvalid, err)
	}
	p := pmp4.Presentation{Tracks: []*pmp4.Track{{
		ID:        1,
		TimeScale: timeScale,
		Codec:     track,
		Samples: []*pmp4.Sample{{
			Duration:    frameDuration,
			PayloadSize: uint32(len(payload)),
			GetPayload:  func() ([]byte, error) { return payload, nil },
		}},
	}}}
	var buf bytes.Buffer
	buf.Grow(len(payload) + 1024)
	if err := p.Marshal(&buf); err != nil {
		// pmp4 fails on parameter sets it cannot parse.
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	out := buf.Bytes()
	if codec == stillsv1.Codec_CODEC_H265 {
		// mediacommon writes the hev1 sample entry (parameter sets may be
		// in-band). Ours are only in hvcC, which is what hvc1 promises,
		// and hvc1 is what Apple's players and browsers require.
		if err := renameSampleEntry(out, "hev1", "hvc1"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// renameSampleEntry rewrites, in place, the four-character type of the
// first sample entry under moov/trak/mdia/minf/stbl/stsd from old to new.
func renameSampleEntry(b []byte, old, new string) error {
	box := b
	for _, name := range []string{"moov", "trak", "mdia", "minf", "stbl", "stsd"} {
		var ok bool
		if box, ok = child(box, name); !ok {
			return fmt.Errorf("%w: no %s box in the muxed MP4", ErrInvalid, name)
		}
	}
	// stsd payload: version+flags (4), entry count (4), then the entry box.
	if len(box) < 16 || string(box[12:16]) != old {
		return fmt.Errorf("%w: sample entry is not %s", ErrInvalid, old)
	}
	copy(box[12:16], new)
	return nil
}

// child finds the box called name among the boxes laid end to end in b
// and returns its payload (a sub-slice of b).
func child(b []byte, name string) ([]byte, bool) {
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			return nil, false
		}
		if string(b[4:8]) == name {
			return b[8:size], true
		}
		b = b[size:]
	}
	return nil, false
}

// H.264 NAL unit types (ITU-T H.264 table 7-1).
const (
	h264SPS = 7
	h264PPS = 8
	h264AUD = 9
)

func splitH264(nalus, paramSets [][]byte) (cmp4.Codec, [][]byte, error) {
	c := &cmp4.CodecH264{}
	var sample [][]byte
	for _, n := range nalus {
		switch n[0] & 0x1f {
		case h264SPS:
			c.SPS = first(c.SPS, n)
		case h264PPS:
			c.PPS = first(c.PPS, n)
		case h264AUD:
		default:
			sample = append(sample, n)
		}
	}
	for _, n := range paramSets {
		if len(n) == 0 {
			continue
		}
		switch n[0] & 0x1f {
		case h264SPS:
			c.SPS = first(c.SPS, n)
		case h264PPS:
			c.PPS = first(c.PPS, n)
		}
	}
	if c.SPS == nil || c.PPS == nil {
		return nil, nil, fmt.Errorf("%w: h264 SPS or PPS missing", ErrInvalid)
	}
	if len(sample) == 0 {
		return nil, nil, fmt.Errorf("%w: no picture", ErrInvalid)
	}
	return c, sample, nil
}

// H.265 NAL unit types (ITU-T H.265 table 7-1).
const (
	h265VPS = 32
	h265SPS = 33
	h265PPS = 34
	h265AUD = 35
)

func splitH265(nalus, paramSets [][]byte) (cmp4.Codec, [][]byte, error) {
	c := &cmp4.CodecH265{}
	var sample [][]byte
	set := func(n []byte) bool {
		switch (n[0] >> 1) & 0x3f {
		case h265VPS:
			c.VPS = first(c.VPS, n)
		case h265SPS:
			c.SPS = first(c.SPS, n)
		case h265PPS:
			c.PPS = first(c.PPS, n)
		default:
			return false
		}
		return true
	}
	for _, n := range nalus {
		if len(n) < 2 {
			return nil, nil, fmt.Errorf("%w: h265 NAL unit shorter than its header", ErrInvalid)
		}
		if !set(n) && (n[0]>>1)&0x3f != h265AUD {
			sample = append(sample, n)
		}
	}
	for _, n := range paramSets {
		if len(n) >= 2 {
			set(n)
		}
	}
	if c.VPS == nil || c.SPS == nil || c.PPS == nil {
		return nil, nil, fmt.Errorf("%w: h265 VPS, SPS or PPS missing", ErrInvalid)
	}
	if len(sample) == 0 {
		return nil, nil, fmt.Errorf("%w: no picture", ErrInvalid)
	}
	return c, sample, nil
}

// first keeps the first parameter set of a kind.
func first(have, n []byte) []byte {
	if have != nil {
		return have
	}
	return n
}
