// Package segmenter cuts a stream of access units into segments: a segment
// starts at the first keyframe at or after the previous start plus the
// segment duration (DESIGN §1). For each start it returns the keyframe,
// completed with the latest parameter sets and described by its SPS.
package segmenter

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/ingest/internal/source"
)

// ErrNoParameterSets is a keyframe due to start a segment while its
// parameter sets (SPS and PPS; VPS too for H.265) have not been seen yet
// (in-band or out of band): it cannot be decoded alone.
var ErrNoParameterSets = errors.New("segmenter: keyframe without parameter sets")

// Segment is the start of one segment.
type Segment struct {
	Time     time.Time
	Sequence uint64
	Codec    stillsv1.Codec
	// Width and Height are the picture size from the SPS (cropping applied);
	// SarNum/SarDen the sample aspect ratio, 0 when the SPS does not say.
	Width, Height  int
	SarNum, SarDen int
	// ParamSets are the parameter sets in force, without start codes: SPS
	// and PPS for H.264, VPS, SPS and PPS for H.265.
	ParamSets [][]byte
	// Keyframe is the keyframe access unit, parameter sets first.
	Keyframe [][]byte
}

// Segmenter is the state of one stream. It is not safe for concurrent use.
type Segmenter struct {
	duration time.Duration
	started  bool
	last     time.Time
	seq      uint64

	codec         stillsv1.Codec
	vps, sps, pps []byte
	info          spsInfo
}

// New returns a segmenter cutting every d (d > 0).
func New(d time.Duration) *Segmenter { return &Segmenter{duration: d} }

// Push feeds one access unit in decode order. It returns the segment it
// starts, if any. A keyframe due to start a segment before any parameter
// sets are known returns ErrNoParameterSets (and starts nothing).
func (s *Segmenter) Push(au source.AccessUnit) (Segment, bool, error) {
	if au.Codec != s.codec { // a new track: forget the other codec's sets
		s.codec, s.vps, s.sps, s.pps, s.info = au.Codec, nil, nil, nil, spsInfo{}
	}
	for _, n := range au.ParamSets {
		s.learn(n)
	}
	for _, n := range au.NALUs {
		s.learn(n)
	}
	if !au.IsKeyframe || !s.due(au.Time) {
		return Segment{}, false, nil
	}
	params := s.params()
	if params == nil {
		return Segment{}, false, ErrNoParameterSets
	}
	s.started, s.last = true, au.Time
	s.seq++
	return Segment{
		Time:      au.Time,
		Sequence:  s.seq,
		Codec:     s.codec,
		Width:     s.info.width,
		Height:    s.info.height,
		SarNum:    s.info.sarNum,
		SarDen:    s.info.sarDen,
		ParamSets: params,
		Keyframe:  s.complete(au.NALUs, params),
	}, true, nil
}

// due: the first keyframe, one at or after last+duration, or one more than
// a duration before the last start (the clock stepped back: start over
// rather than wait for it to catch up).
func (s *Segmenter) due(t time.Time) bool {
	if !s.started {
		return true
	}
	return !t.Before(s.last.Add(s.duration)) || t.Before(s.last.Add(-s.duration))
}

// params returns the parameter sets in force, nil while one is missing.
func (s *Segmenter) params() [][]byte {
	if s.sps == nil || s.pps == nil {
		return nil
	}
	if s.codec == stillsv1.Codec_CODEC_H265 {
		if s.vps == nil {
			return nil
		}
		return [][]byte{s.vps, s.sps, s.pps}
	}
	return [][]byte{s.sps, s.pps}
}

// kind classifies a NAL unit of either codec.
type kind int

const (
	kindOther kind = iota
	kindVPS
	kindSPS
	kindPPS
	kindAUD
)

func (s *Segmenter) kind(n []byte) kind {
	if len(n) == 0 {
		return kindOther
	}
	if s.codec == stillsv1.Codec_CODEC_H265 {
		switch source.H265Type(n) {
		case 32:
			return kindVPS
		case 33:
			return kindSPS
		case 34:
			return kindPPS
		case 35:
			return kindAUD
		}
		return kindOther
	}
	switch h264.NALUType(n[0] & 0x1f) {
	case h264.NALUTypeSPS:
		return kindSPS
	case h264.NALUTypePPS:
		return kindPPS
	case h264.NALUTypeAccessUnitDelimiter:
		return kindAUD
	}
	return kindOther
}

// learn keeps the latest parameter sets (a broken SPS does not replace a
// good one; the source may reuse its buffers, so they are copied).
func (s *Segmenter) learn(n []byte) {
	switch s.kind(n) {
	case kindVPS:
		if string(n) != string(s.vps) {
			s.vps = bytes.Clone(n)
		}
	case kindSPS:
		if string(n) == string(s.sps) {
			return
		}
		info, err := parseSPS(s.codec, n)
		if err != nil {
			return
		}
		s.sps, s.info = bytes.Clone(n), info
	case kindPPS:
		if string(n) != string(s.pps) {
			s.pps = bytes.Clone(n)
		}
	}
}

// complete returns the keyframe as parameter sets then the rest: its own
// when it carries them all, the ones in force otherwise. Access unit
// delimiters are dropped (optional, and they would have to come before the
// parameter sets).
func (s *Segmenter) complete(nalus, inForce [][]byte) [][]byte {
	var params, rest [][]byte
	has := map[kind]bool{}
	for _, n := range nalus {
		switch k := s.kind(n); k {
		case kindAUD:
		case kindVPS, kindSPS, kindPPS:
			has[k] = true
			params = append(params, n)
		default:
			rest = append(rest, n)
		}
	}
	if len(has) != len(inForce) {
		params = inForce
	}
	return append(params, rest...)
}

type spsInfo struct {
	width, height  int
	sarNum, sarDen int
}

func parseSPS(codec stillsv1.Codec, n []byte) (spsInfo, error) {
	if codec == stillsv1.Codec_CODEC_H265 {
		var sps h265.SPS
		if err := sps.Unmarshal(n); err != nil {
			return spsInfo{}, fmt.Errorf("segmenter: sps: %w", err)
		}
		info := spsInfo{width: sps.Width(), height: sps.Height()}
		if v := sps.VUI; v != nil && v.AspectRatioInfoPresentFlag {
			info.sarNum, info.sarDen = sar(v.AspectRatioIdc, v.SarWidth, v.SarHeight)
		}
		return info, nil
	}
	var sps h264.SPS
	if err := sps.Unmarshal(n); err != nil {
		return spsInfo{}, fmt.Errorf("segmenter: sps: %w", err)
	}
	info := spsInfo{width: sps.Width(), height: sps.Height()}
	if v := sps.VUI; v != nil && v.AspectRatioInfoPresentFlag {
		info.sarNum, info.sarDen = sar(v.AspectRatioIdc, v.SarWidth, v.SarHeight)
	}
	return info, nil
}

// sarTable is H.264 Table E-1 and H.265 Table E-1 (aspect_ratio_idc
// 1..16, the same in both).
var sarTable = [...][2]int{
	{1, 1}, {12, 11}, {10, 11}, {16, 11}, {40, 33}, {24, 11}, {20, 11}, {32, 11},
	{80, 33}, {18, 11}, {15, 11}, {64, 33}, {160, 99}, {4, 3}, {3, 2}, {2, 1},
}

func sar(idc uint8, w, h uint16) (int, int) {
	switch {
	case idc == 255 && w > 0 && h > 0:
		return int(w), int(h)
	case idc >= 1 && int(idc) <= len(sarTable):
		return sarTable[idc-1][0], sarTable[idc-1][1]
	}
	return 0, 0
}
