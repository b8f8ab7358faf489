package source

import (
	"bytes"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// clip is a raw H.264 stream cut into access units.
type clip struct {
	aus      []clipAU
	frameDur time.Duration
}

type clipAU struct {
	nalus    [][]byte
	keyframe bool
}

// defaultFPS paces a stream whose SPS carries no timing information.
const defaultFPS = 25

// parseClip cuts a raw Annex-B H.264 byte stream into access units. The
// frame rate comes from the SPS timing info (25 fps when absent).
func parseClip(data []byte) (*clip, error) {
	nalus, err := splitAnnexB(data)
	if err != nil {
		return nil, err
	}
	c := &clip{frameDur: time.Second / defaultFPS}
	for _, au := range groupAccessUnits(nalus) {
		c.aus = append(c.aus, clipAU{nalus: au, keyframe: h264.IsRandomAccess(au)})
	}
	for _, n := range nalus {
		if h264.NALUType(n[0]&0x1f) != h264.NALUTypeSPS {
			continue
		}
		var sps h264.SPS
		if err := sps.Unmarshal(n); err != nil {
			return nil, fmt.Errorf("%w: sps: %v", ErrNoVideo, err)
		}
		if fps := sps.FPS(); fps >= 1 && fps <= 240 {
			c.frameDur = time.Duration(float64(time.Second) / fps)
		}
		break
	}
	if !hasKeyframe(c.aus) {
		return nil, fmt.Errorf("%w: no IDR picture", ErrNoVideo)
	}
	return c, nil
}

func hasKeyframe(aus []clipAU) bool {
	for _, au := range aus {
		if au.keyframe {
			return true
		}
	}
	return false
}

// splitAnnexB returns the NAL units of a byte stream of any length:
// mediacommon's AnnexB unmarshals at most h264.MaxAccessUnitSize at once,
// so longer streams are cut at start codes first.
func splitAnnexB(data []byte) ([][]byte, error) {
	const chunk = h264.MaxAccessUnitSize / 2
	var out [][]byte
	for len(data) > 0 {
		n := len(data)
		if n > chunk {
			i := bytes.Index(data[chunk:], []byte{0, 0, 1})
			if i < 0 {
				return nil, fmt.Errorf("%w: NAL unit over %d bytes", ErrNoVideo, h264.MaxAccessUnitSize)
			}
			n = chunk + i
			if data[n-1] == 0 { // a four-byte start code
				n--
			}
		}
		var a h264.AnnexB
		if err := a.Unmarshal(data[:n]); err != nil {
			return nil, fmt.Errorf("%w: annex-b: %v", ErrNoVideo, err)
		}
		for _, nalu := range a {
			if len(nalu) > 0 {
				out = append(out, nalu)
			}
		}
		data = data[n:]
	}
	return out, nil
}

// groupAccessUnits groups NAL units into access units (H.264 7.4.1.2.3): a
// new one starts at an access unit delimiter, SPS, PPS, SEI or prefix NAL
// after a picture's slices, or at a slice with first_mb_in_slice == 0.
func groupAccessUnits(nalus [][]byte) [][][]byte {
	var aus [][][]byte
	var cur [][]byte
	sawSlice := false
	for _, n := range nalus {
		typ := h264.NALUType(n[0] & 0x1f)
		isSlice := typ >= h264.NALUTypeNonIDR && typ <= h264.NALUTypeIDR
		starts := false
		switch {
		case typ == h264.NALUTypeNonIDR, typ == h264.NALUTypeIDR, typ == h264.NALUTypeDataPartitionA:
			starts = sawSlice && len(n) > 1 && n[1]&0x80 != 0 // ue(v) first_mb_in_slice == 0
		case typ == h264.NALUTypeAccessUnitDelimiter, typ == h264.NALUTypeSPS,
			typ == h264.NALUTypePPS, typ == h264.NALUTypeSEI,
			typ >= 14 && typ <= 18:
			starts = sawSlice
		}
		if starts {
			aus = append(aus, cur)
			cur, sawSlice = nil, false
		}
		cur = append(cur, n)
		sawSlice = sawSlice || isSlice
	}
	if sawSlice {
		aus = append(aus, cur)
	}
	return aus
}
