package segmenter

import (
	"bytes"
	"errors"
	"testing"
	"time"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/ingest/internal/source"
)

// Parameter sets of a 352x288 x265 picture with a 12:11 sample aspect
// ratio (aspect_ratio_idc 2).
const (
	vps352 = "40010c01ffff0408000003009e0800000300003c959809"
	sps352 = "4201010408000003009e0800000300003c9001610090b2cacd24995e04dc080800100000030010000003019080"
	pps352 = "4401c172860c4624"
)

func TestH265(t *testing.T) {
	vps, sps, pps := mustHex(t, vps352), mustHex(t, sps352), mustHex(t, pps352)
	aud := []byte{35 << 1, 1, 0x50}
	idr := []byte{19 << 1, 1, 0xaf, 0x01}
	cra := []byte{21 << 1, 1, 0xaf, 0x02}
	h265 := stillsv1.Codec_CODEC_H265

	s := New(time.Second)
	if _, _, err := s.Push(source.AccessUnit{Codec: h265, NALUs: [][]byte{sps, pps, idr}, IsKeyframe: true, Time: at(0)}); !errors.Is(err, ErrNoParameterSets) {
		t.Fatalf("keyframe without a VPS: %v, want ErrNoParameterSets", err)
	}
	tests := []struct {
		name string
		au   source.AccessUnit
		want [][]byte
	}{
		{"in-band sets, delimiter dropped", source.AccessUnit{NALUs: [][]byte{aud, vps, sps, pps, idr}}, [][]byte{vps, sps, pps, idr}},
		{"out-of-band sets prepended to a CRA", source.AccessUnit{NALUs: [][]byte{cra}}, [][]byte{vps, sps, pps, cra}},
	}
	for i, tt := range tests {
		tt.au.Codec, tt.au.IsKeyframe, tt.au.Time = h265, true, at(1000*(i+1))
		seg, ok, err := s.Push(tt.au)
		if err != nil || !ok {
			t.Fatalf("%s: ok=%v err=%v", tt.name, ok, err)
		}
		if seg.Codec != h265 || seg.Width != 352 || seg.Height != 288 || seg.SarNum != 12 || seg.SarDen != 11 {
			t.Errorf("%s: %v %dx%d sar %d:%d", tt.name, seg.Codec, seg.Width, seg.Height, seg.SarNum, seg.SarDen)
		}
		if len(seg.ParamSets) != 3 || !bytes.Equal(seg.ParamSets[0], vps) {
			t.Errorf("%s: parameter sets %x", tt.name, seg.ParamSets)
		}
		if len(seg.Keyframe) != len(tt.want) {
			t.Fatalf("%s: keyframe %x, want %x", tt.name, seg.Keyframe, tt.want)
		}
		for j := range tt.want {
			if !bytes.Equal(seg.Keyframe[j], tt.want[j]) {
				t.Errorf("%s: NAL unit %d = %x, want %x", tt.name, j, seg.Keyframe[j], tt.want[j])
			}
		}
	}
	// A switch to H.264 forgets the H.265 sets.
	if _, _, err := s.Push(source.AccessUnit{Codec: stillsv1.Codec_CODEC_H264, NALUs: [][]byte{{0x65, 0x88}}, IsKeyframe: true, Time: at(5000)}); !errors.Is(err, ErrNoParameterSets) {
		t.Errorf("codec switch: %v, want ErrNoParameterSets", err)
	}
}
