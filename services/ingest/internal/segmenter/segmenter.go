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

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/ingest/internal/source"
)

// ErrNoParameterSets is a keyframe due to start a segment while no SPS/PPS
// has been seen yet (in-band or out of band): it cannot be decoded alone.
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
	// ParamSets are the SPS and PPS in force, without start codes.
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

	sps, pps []byte
	info     spsInfo
}

// New returns a segmenter cutting every d (d > 0).
func New(d time.Duration) *Segmenter { return &Segmenter{duration: d} }

// Push feeds one access unit in decode order. It returns the segment it
// starts, if any. A keyframe due to start a segment before any parameter
// sets are known returns ErrNoParameterSets (and starts nothing).
func (s *Segmenter) Push(au source.AccessUnit) (Segment, bool, error) {
	for _, n := range au.ParamSets {
		s.learn(n)
	}
	for _, n := range au.NALUs {
		s.learn(n)
	}
	if !au.IsKeyframe || !s.due(au.Time) {
		return Segment{}, false, nil
	}
	if s.sps == nil || s.pps == nil {
		return Segment{}, false, ErrNoParameterSets
	}
	s.started, s.last = true, au.Time
	s.seq++
	return Segment{
		Time:      au.Time,
		Sequence:  s.seq,
		Codec:     stillsv1.Codec_CODEC_H264,
		Width:     s.info.width,
		Height:    s.info.height,
		SarNum:    s.info.sarNum,
		SarDen:    s.info.sarDen,
		ParamSets: [][]byte{s.sps, s.pps},
		Keyframe:  s.complete(au.NALUs),
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

// learn keeps the latest SPS and PPS.
func (s *Segmenter) learn(n []byte) {
	if len(n) == 0 {
		return
	}
	switch h264.NALUType(n[0] & 0x1f) {
	case h264.NALUTypeSPS:
		if string(n) == string(s.sps) {
			return
		}
		info, err := parseSPS(n)
		if err != nil {
			return // a broken SPS does not replace a good one
		}
		s.sps, s.info = bytes.Clone(n), info // the source may reuse its buffers
	case h264.NALUTypePPS:
		if string(n) != string(s.pps) {
			s.pps = bytes.Clone(n)
		}
	}
}

// complete returns the keyframe as parameter sets then the rest: its own
// SPS and PPS when it carries both, the latest known ones otherwise.
// Access unit delimiters are dropped (optional, and they would have to
// come before the parameter sets).
func (s *Segmenter) complete(nalus [][]byte) [][]byte {
	var params, rest [][]byte
	hasSPS, hasPPS := false, false
	for _, n := range nalus {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeAccessUnitDelimiter:
		case h264.NALUTypeSPS:
			hasSPS = true
			params = append(params, n)
		case h264.NALUTypePPS:
			hasPPS = true
			params = append(params, n)
		default:
			rest = append(rest, n)
		}
	}
	if !hasSPS || !hasPPS {
		params = [][]byte{s.sps, s.pps}
	}
	return append(params, rest...)
}

type spsInfo struct {
	width, height  int
	sarNum, sarDen int
}

func parseSPS(n []byte) (spsInfo, error) {
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

// sarTable is H.264 Table E-1 (aspect_ratio_idc 1..16).
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
