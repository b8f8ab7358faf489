package source

import (
	"bytes"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// clip is a coded video cut into access units, played in a loop.
type clip struct {
	codec stillsv1.Codec
	aus   []clipAU
	// loop is the duration of one pass: access unit i of pass k is due at
	// k*loop + aus[i].at.
	loop time.Duration
}

type clipAU struct {
	nalus    [][]byte
	keyframe bool
	at       time.Duration // since the first access unit, increasing
}

// defaultFPS paces a stream whose SPS carries no timing information.
const defaultFPS = 25

// parseClip cuts a raw Annex-B H.264 or H.265 byte stream into access
// units, paced at the SPS frame rate (25 fps when absent).
func parseClip(data []byte, codec stillsv1.Codec) (*clip, error) {
	nalus, err := splitAnnexB(data)
	if err != nil {
		return nil, err
	}
	frame := time.Second / defaultFPS
	for _, n := range nalus {
		if !isSPS(codec, n) {
			continue
		}
		fps := spsFPS(codec, n)
		if fps < 0 {
			return nil, fmt.Errorf("%w: unparsable SPS", ErrNoVideo)
		}
		if fps >= 1 && fps <= 240 {
			frame = time.Duration(float64(time.Second) / fps)
		}
		break
	}
	c := &clip{codec: codec}
	for i, au := range groupAccessUnits(codec, nalus) {
		c.aus = append(c.aus, clipAU{nalus: au, keyframe: IsKeyframe(codec, au), at: time.Duration(i) * frame})
	}
	c.loop = time.Duration(len(c.aus)) * frame
	if !hasKeyframe(c.aus) {
		return nil, fmt.Errorf("%w: no keyframe", ErrNoVideo)
	}
	return c, nil
}

func isSPS(codec stillsv1.Codec, n []byte) bool {
	if codec == stillsv1.Codec_CODEC_H265 {
		return len(n) > 1 && H265Type(n) == h265SPS
	}
	return h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS
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

// groupAccessUnits groups NAL units into access units: a new one starts
// at a delimiter, parameter set or SEI after a picture's slices, or at the
// first slice of the next picture (see startsAccessUnit).
func groupAccessUnits(codec stillsv1.Codec, nalus [][]byte) [][][]byte {
	var aus [][][]byte
	var cur [][]byte
	sawSlice := false
	for _, n := range nalus {
		starts, isSlice := startsAccessUnit(codec, n)
		if starts && sawSlice {
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
