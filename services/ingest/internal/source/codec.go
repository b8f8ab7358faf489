package source

import (
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// H.265 NAL unit types used here (ITU-T H.265 Table 7-1).
const (
	h265IRAPFirst = 16 // BLA_W_LP
	h265IRAPLast  = 21 // CRA_NUT
	h265VPS       = 32
	h265SPS       = 33
	h265PPS       = 34
	h265AUD       = 35
	h265PrefixSEI = 39
)

// H265Type is the nal_unit_type of an H.265 NAL unit (two-byte header).
func H265Type(n []byte) uint8 { return (n[0] >> 1) & 0x3f }

// IsKeyframe reports whether an access unit is a random access point: an
// IDR picture for H.264, an IRAP picture (BLA, IDR or CRA, types 16–21)
// for H.265.
func IsKeyframe(codec stillsv1.Codec, au [][]byte) bool {
	if codec == stillsv1.Codec_CODEC_H265 {
		for _, n := range au {
			if len(n) > 0 {
				if t := H265Type(n); t >= h265IRAPFirst && t <= h265IRAPLast {
					return true
				}
			}
		}
		return false
	}
	return h264.IsRandomAccess(au)
}

// startsAccessUnit reports whether NAL unit n begins a new access unit
// when it follows a picture's slices (H.264 7.4.1.2.3, H.265 7.4.2.4.4):
// a delimiter, parameter set or prefix SEI, or the first slice of a
// picture.
func startsAccessUnit(codec stillsv1.Codec, n []byte) (starts, isSlice bool) {
	if codec == stillsv1.Codec_CODEC_H265 {
		if len(n) < 2 {
			return false, false
		}
		t := H265Type(n)
		switch {
		case t < 32: // VCL
			return len(n) > 2 && n[2]&0x80 != 0, true // first_slice_segment_in_pic_flag
		case t >= h265VPS && t <= h265AUD, t == h265PrefixSEI, t >= 41 && t <= 44, t >= 48 && t <= 55:
			return true, false
		}
		return false, false
	}
	typ := h264.NALUType(n[0] & 0x1f)
	switch {
	case typ == h264.NALUTypeNonIDR, typ == h264.NALUTypeIDR, typ == h264.NALUTypeDataPartitionA:
		return len(n) > 1 && n[1]&0x80 != 0, true // ue(v) first_mb_in_slice == 0
	case typ == h264.NALUTypeDataPartitionB, typ == h264.NALUTypeDataPartitionC:
		return false, true
	case typ == h264.NALUTypeAccessUnitDelimiter, typ == h264.NALUTypeSPS,
		typ == h264.NALUTypePPS, typ == h264.NALUTypeSEI,
		typ >= 14 && typ <= 18:
		return true, false
	}
	return false, false
}

// spsFPS returns the frame rate an SPS declares, 0 when it does not or
// when the SPS does not parse.
func spsFPS(codec stillsv1.Codec, n []byte) float64 {
	if codec == stillsv1.Codec_CODEC_H265 {
		return h265FPS(n)
	}
	if h264.NALUType(n[0]&0x1f) != h264.NALUTypeSPS {
		return 0
	}
	var sps h264.SPS
	if sps.Unmarshal(n) != nil {
		return -1
	}
	return sps.FPS()
}

func h265FPS(n []byte) float64 {
	if len(n) < 2 || H265Type(n) != h265SPS {
		return 0
	}
	var sps h265.SPS
	if sps.Unmarshal(n) != nil {
		return -1
	}
	return sps.FPS()
}
