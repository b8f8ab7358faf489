package segmenter

import (
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stills-video/stills/services/ingest/internal/source"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Parameter sets written by libx264 (see the test names for the picture).
const (
	sps640x360 = "6764001eacb405017fcb80880000030008000003019478b175" // coded 640x368, cropped
	pps640x360 = "68ef0672c0"
	sps576sar1 = "67f4001e9196402d049b011000000300100000030320f162e480"         // 720x576 SAR idc 1
	sps576sar4 = "67f4001e9196402d049b041000000300100000030320f162e480"         // SAR idc 4 = 16:11
	sps576ext  = "67f4001e9196402d049bff000500031000000300100000030320f162e480" // Extended_SAR 5:3
	pps576     = "68ebc3c44844"
)

var (
	idr   = []byte{0x65, 0x88, 0x84}
	slice = []byte{0x41, 0x9a, 0x02}
	aud   = []byte{0x09, 0xf0}
	sei   = []byte{0x06, 0x05, 0x01}
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestCutTimes(t *testing.T) {
	tests := []struct {
		name     string
		duration time.Duration
		keyAt    []int // keyframe times, ms
		want     []int // segment starts, ms
	}{
		{"first keyframe starts", 3 * time.Second, []int{0}, []int{0}},
		{"every keyframe when gop equals duration", time.Second, []int{0, 1000, 2000, 3000}, []int{0, 1000, 2000, 3000}},
		{"gop shorter than duration", 3 * time.Second, []int{0, 1000, 2000, 3000, 4000, 5000, 6000, 7000}, []int{0, 3000, 6000}},
		{"first keyframe at or after the due time", 3 * time.Second, []int{0, 2000, 2999, 3001, 5000, 6000, 6001}, []int{0, 3001, 6001}},
		{"exactly at start plus duration", 2 * time.Second, []int{0, 2000, 4000}, []int{0, 2000, 4000}},
		{"gop longer than duration", 3 * time.Second, []int{0, 5000, 10000}, []int{0, 5000, 10000}},
		{"due time counts from the actual start", 3 * time.Second, []int{0, 4000, 6000, 7000}, []int{0, 4000, 7000}},
		{"small step back waits", 3 * time.Second, []int{10000, 9000, 12000, 13000}, []int{10000, 13000}},
		{"large step back starts over", 3 * time.Second, []int{10000, 2000, 4000, 5000}, []int{10000, 2000, 5000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.duration)
			params := [][]byte{mustHex(t, sps640x360), mustHex(t, pps640x360)}
			var got []int
			var seqs []uint64
			for i, ms := range tt.keyAt {
				// a non-keyframe between keyframes never cuts
				if _, ok, _ := s.Push(source.AccessUnit{NALUs: [][]byte{slice}, Time: at(ms + 40)}); ok && i > 0 {
					t.Fatalf("non-keyframe at %d started a segment", ms+40)
				}
				seg, ok, err := s.Push(source.AccessUnit{NALUs: [][]byte{idr}, IsKeyframe: true, Time: at(ms), ParamSets: params})
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got = append(got, int(seg.Time.Sub(t0)/time.Millisecond))
					seqs = append(seqs, seg.Sequence)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("starts %v, want %v", got, tt.want)
			}
			for i, q := range seqs {
				if q != uint64(i+1) {
					t.Errorf("sequences %v, want 1..n", seqs)
					break
				}
			}
		})
	}
}

func TestKeyframeCompletion(t *testing.T) {
	sps, pps := mustHex(t, sps640x360), mustHex(t, pps640x360)
	sps2, pps2 := mustHex(t, sps576sar1), mustHex(t, pps576)
	tests := []struct {
		name   string
		before []source.AccessUnit // fed first (not keyframes)
		au     source.AccessUnit
		want   [][]byte
		width  int
	}{
		{
			name:  "in-band parameter sets kept as they are",
			au:    source.AccessUnit{NALUs: [][]byte{sps, pps, sei, idr}},
			want:  [][]byte{sps, pps, sei, idr},
			width: 640,
		},
		{
			name:  "out-of-band parameter sets prepended",
			au:    source.AccessUnit{NALUs: [][]byte{idr}, ParamSets: [][]byte{sps, pps}},
			want:  [][]byte{sps, pps, idr},
			width: 640,
		},
		{
			name:  "delimiter dropped, parameter sets first",
			au:    source.AccessUnit{NALUs: [][]byte{aud, sei, idr}, ParamSets: [][]byte{sps, pps}},
			want:  [][]byte{sps, pps, sei, idr},
			width: 640,
		},
		{
			name:  "in-band parameter sets moved first",
			au:    source.AccessUnit{NALUs: [][]byte{aud, sei, sps, pps, idr}},
			want:  [][]byte{sps, pps, sei, idr},
			width: 640,
		},
		{
			name:   "latest in-band parameter sets replace the SDP ones",
			before: []source.AccessUnit{{NALUs: [][]byte{sps2, pps2, slice}}},
			au:     source.AccessUnit{NALUs: [][]byte{idr}, ParamSets: nil},
			want:   [][]byte{sps2, pps2, idr},
			width:  720,
		},
		{
			name:  "lone in-band SPS completed with the known PPS",
			au:    source.AccessUnit{NALUs: [][]byte{sps2, idr}, ParamSets: [][]byte{sps, pps}},
			want:  [][]byte{sps2, pps, idr},
			width: 720,
		},
		{
			name:  "broken SPS does not replace a good one",
			au:    source.AccessUnit{NALUs: [][]byte{{0x67, 0xff}, idr}, ParamSets: [][]byte{sps, pps}},
			want:  [][]byte{sps, pps, idr},
			width: 640,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(time.Second)
			for _, b := range tt.before {
				if _, _, err := s.Push(b); err != nil {
					t.Fatal(err)
				}
			}
			tt.au.IsKeyframe, tt.au.Time = true, t0
			seg, ok, err := s.Push(tt.au)
			if err != nil || !ok {
				t.Fatalf("push: ok=%v err=%v", ok, err)
			}
			if !slices.EqualFunc(seg.Keyframe, tt.want, slices.Equal) {
				t.Errorf("keyframe %x, want %x", seg.Keyframe, tt.want)
			}
			if seg.Width != tt.width {
				t.Errorf("width %d, want %d", seg.Width, tt.width)
			}
			if len(seg.ParamSets) != 2 || seg.ParamSets[0][0]&0x1f != 7 || seg.ParamSets[1][0]&0x1f != 8 {
				t.Errorf("parameter sets %x", seg.ParamSets)
			}
		})
	}
}

func TestPictureInfo(t *testing.T) {
	tests := []struct {
		name                 string
		sps                  string
		w, h, sarNum, sarDen int
	}{
		{"cropped 640x360 square pixels", sps640x360, 640, 360, 1, 1},
		{"PAL SAR 1:1", sps576sar1, 720, 576, 1, 1},
		{"PAL SAR table 16:11", sps576sar4, 720, 576, 16, 11},
		{"extended SAR 5:3", sps576ext, 720, 576, 5, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(time.Second)
			seg, ok, err := s.Push(source.AccessUnit{
				NALUs: [][]byte{mustHex(t, tt.sps), mustHex(t, pps576), idr}, IsKeyframe: true, Time: t0,
			})
			if err != nil || !ok {
				t.Fatalf("push: ok=%v err=%v", ok, err)
			}
			if seg.Width != tt.w || seg.Height != tt.h || seg.SarNum != tt.sarNum || seg.SarDen != tt.sarDen {
				t.Errorf("got %dx%d sar %d:%d, want %dx%d sar %d:%d",
					seg.Width, seg.Height, seg.SarNum, seg.SarDen, tt.w, tt.h, tt.sarNum, tt.sarDen)
			}
		})
	}
}

func TestSAR(t *testing.T) {
	tests := []struct {
		idc      uint8
		w, h     uint16
		num, den int
	}{
		{0, 0, 0, 0, 0},       // unspecified
		{1, 0, 0, 1, 1},       // square
		{14, 0, 0, 4, 3},      // table
		{16, 0, 0, 2, 1},      // last table entry
		{17, 0, 0, 0, 0},      // reserved
		{255, 64, 45, 64, 45}, // extended
		{255, 0, 45, 0, 0},    // extended with a zero: unknown
	}
	for _, tt := range tests {
		if n, d := sar(tt.idc, tt.w, tt.h); n != tt.num || d != tt.den {
			t.Errorf("sar(%d,%d,%d) = %d:%d, want %d:%d", tt.idc, tt.w, tt.h, n, d, tt.num, tt.den)
		}
	}
}

func TestNoParameterSets(t *testing.T) {
	s := New(time.Second)
	_, ok, err := s.Push(source.AccessUnit{NALUs: [][]byte{idr}, IsKeyframe: true, Time: t0})
	if ok || !errors.Is(err, ErrNoParameterSets) {
		t.Fatalf("ok=%v err=%v, want ErrNoParameterSets", ok, err)
	}
	// The next keyframe with parameter sets starts the first segment.
	seg, ok, err := s.Push(source.AccessUnit{
		NALUs: [][]byte{mustHex(t, sps640x360), mustHex(t, pps640x360), idr}, IsKeyframe: true, Time: at(40),
	})
	if err != nil || !ok || seg.Sequence != 1 || !seg.Time.Equal(at(40)) {
		t.Fatalf("seg=%+v ok=%v err=%v", seg, ok, err)
	}
}

func TestParameterSetsAreCopied(t *testing.T) {
	s := New(time.Second)
	sps, pps := mustHex(t, sps640x360), mustHex(t, pps640x360)
	if _, _, err := s.Push(source.AccessUnit{NALUs: [][]byte{sps, pps, slice}}); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(sps)
	for i := range sps { // the source reuses its buffer
		sps[i], pps[i%len(pps)] = 0, 0
	}
	seg, ok, _ := s.Push(source.AccessUnit{NALUs: [][]byte{idr}, IsKeyframe: true, Time: t0})
	if !ok || !slices.Equal(seg.ParamSets[0], want) {
		t.Fatalf("parameter set changed with the source buffer: %x", seg.ParamSets)
	}
}
