package mp4

import (
	"bytes"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	cmp4 "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// maxSample bounds the keyframe sample Demux accepts (the SEGMENTS
// message cap is 8 MiB).
const maxSample = 16 << 20

// Demux is the reverse of Mux: it reads the first sample of the first
// track of a one-frame MP4 with mediacommon's pmp4 and returns it as an
// Annex-B access unit with its parameter sets (from avcC/hvcC) in front,
// ready for the decoder.
func Demux(data []byte) (stillsv1.Codec, []byte, error) {
	var p pmp4.Presentation
	if err := p.Unmarshal(bytes.NewReader(data)); err != nil {
		return 0, nil, fmt.Errorf("%w: read: %v", ErrInvalid, err)
	}
	if len(p.Tracks) == 0 || len(p.Tracks[0].Samples) == 0 {
		return 0, nil, fmt.Errorf("%w: no sample", ErrInvalid)
	}
	tr := p.Tracks[0]
	var (
		codec  stillsv1.Codec
		params [][]byte
	)
	switch c := tr.Codec.(type) {
	case *cmp4.CodecH264:
		codec, params = stillsv1.Codec_CODEC_H264, [][]byte{c.SPS, c.PPS}
	case *cmp4.CodecH265:
		codec, params = stillsv1.Codec_CODEC_H265, [][]byte{c.VPS, c.SPS, c.PPS}
	default:
		return 0, nil, fmt.Errorf("%w: codec %T", ErrInvalid, tr.Codec)
	}
	s := tr.Samples[0]
	if s.PayloadSize == 0 || s.PayloadSize > maxSample {
		return 0, nil, fmt.Errorf("%w: sample of %d bytes", ErrInvalid, s.PayloadSize)
	}
	payload, err := s.GetPayload()
	if err != nil {
		return 0, nil, fmt.Errorf("%w: sample: %v", ErrInvalid, err)
	}
	var nalus h264.AVCC
	if err := nalus.Unmarshal(payload); err != nil {
		return 0, nil, fmt.Errorf("%w: avcc: %v", ErrInvalid, err)
	}
	au, err := h264.AnnexB(append(params, nalus...)).Marshal()
	if err != nil {
		return 0, nil, fmt.Errorf("%w: annex-b: %v", ErrInvalid, err)
	}
	return codec, au, nil
}
