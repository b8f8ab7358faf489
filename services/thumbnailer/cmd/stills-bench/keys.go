package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// key is one benchmark keyframe.
type key struct {
	name   string
	codec  stillsv1.Codec
	au     []byte // Annex-B, parameter sets in-band
	path   string // the access unit alone, for the ffmpeg CLI
	width  int
	height int
}

// keySpec is how a keyframe is made: a busy, noisy picture (a camera's
// sensor noise is what makes real keyframes big) at a camera-like rate
// with a 2 s GOP; the keyframe taken is the second one, after the rate
// control has settled (x264/x265 starve the very first).
type keySpec struct {
	name          string
	codec         stillsv1.Codec
	width, height int
	bitrate       string
}

var keySpecs = []keySpec{
	{"720p h264 2M", stillsv1.Codec_CODEC_H264, 1280, 720, "2M"},
	{"1080p h264 4M", stillsv1.Codec_CODEC_H264, 1920, 1080, "4M"},
	{"1080p h265 3M", stillsv1.Codec_CODEC_H265, 1920, 1080, "3M"},
}

// source is the lavfi picture: moving test pattern plus temporal noise.
func source(w, h int) string {
	return fmt.Sprintf("testsrc2=size=%dx%d:rate=25,noise=alls=10:allf=t+u", w, h)
}

func makeKey(ctx context.Context, ffmpeg, dir string, s keySpec) (key, error) {
	ext, enc := "h264", []string{"-c:v", "libx264", "-x264-params", "keyint=50:min-keyint=50:repeat-headers=1"}
	if s.codec == stillsv1.Codec_CODEC_H265 {
		ext, enc = "hevc", []string{"-c:v", "libx265", "-x265-params", "log-level=error:keyint=50:min-keyint=50:open-gop=0:repeat-headers=1"}
	}
	clip := filepath.Join(dir, fmt.Sprintf("clip-%dp.%s", s.height, ext))
	args := []string{"-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source(s.width, s.height),
		"-frames:v", "60", "-pix_fmt", "yuv420p", "-b:v", s.bitrate, "-maxrate", s.bitrate, "-bufsize", s.bitrate}
	args = append(args, enc...)
	args = append(args, "-f", ext, clip)
	if out, err := exec.CommandContext(ctx, ffmpeg, args...).CombinedOutput(); err != nil {
		return key{}, fmt.Errorf("ffmpeg %v: %v\n%s", args, err, out)
	}
	data, err := os.ReadFile(clip)
	if err != nil {
		return key{}, err
	}
	au, err := secondKeyframe(data, s.codec == stillsv1.Codec_CODEC_H265)
	if err != nil {
		return key{}, fmt.Errorf("%s: %w", s.name, err)
	}
	p := filepath.Join(dir, fmt.Sprintf("key-%s-%dp.%s", ext, s.height, ext))
	if err := os.WriteFile(p, au, 0o644); err != nil {
		return key{}, err
	}
	return key{name: s.name, codec: s.codec, au: au, path: p, width: s.width, height: s.height}, nil
}

// secondKeyframe cuts the second keyframe access unit (parameter sets,
// SEI, IDR slices) out of an Annex-B stream with repeated headers.
func secondKeyframe(stream []byte, hevc bool) ([]byte, error) {
	var nalus h264.AnnexB
	if err := nalus.Unmarshal(stream); err != nil {
		return nil, err
	}
	typ := func(n []byte) int {
		if hevc {
			return int(n[0]>>1) & 0x3f
		}
		return int(n[0] & 0x1f)
	}
	isFirstParam := func(t int) bool { return (hevc && t == 32) || (!hevc && t == 7) }
	isIDR := func(t int) bool { return (hevc && t >= 16 && t <= 21) || (!hevc && t == 5) }
	isVCL := func(t int) bool { return (hevc && t < 32) || (!hevc && t >= 1 && t <= 5) }
	seen := 0
	var au h264.AnnexB
	gotIDR := false
	for _, n := range nalus {
		t := typ(n)
		if isFirstParam(t) {
			seen++
			if seen == 3 {
				break
			}
		}
		if seen != 2 {
			continue
		}
		if gotIDR && (!isIDR(t) || isFirstParam(t)) {
			break
		}
		if isVCL(t) && !isIDR(t) {
			break
		}
		gotIDR = gotIDR || isIDR(t)
		au = append(au, n)
	}
	if !gotIDR {
		return nil, fmt.Errorf("no second keyframe in %d NAL units", len(nalus))
	}
	b, err := au.Marshal()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}
