package source

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// x265 makes a clip of frames at 25 fps, an IRAP every gop frames.
func x265(t *testing.T, path string, frames, gop int, extra ...string) {
	t.Helper()
	args := []string{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-frames:v", strconv.Itoa(frames),
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=" + strconv.Itoa(gop) + ":min-keyint=" + strconv.Itoa(gop) + ":scenecut=0",
		"-pix_fmt", "yuv420p"}
	testutil.Ffmpeg(t, append(append(args, extra...), path)...)
}

// checkLoop runs a file source until it has emitted want access units and
// checks the codec, the keyframe positions and increasing times.
func checkLoop(t *testing.T, path string, codec stillsv1.Codec, want, gop int) []AccessUnit {
	t.Helper()
	src, err := Open("file://"+path, Options{})
	testutil.Must(t, err)
	col, _ := run(t, src)
	testutil.Eventually(t, 10*time.Second, func() error {
		if n := len(col.snapshot()); n < want {
			return testutil.Errorf("%d access units", n)
		}
		return nil
	})
	aus := col.snapshot()
	for i, au := range aus {
		if au.Codec != codec {
			t.Fatalf("access unit %d: codec %v, want %v", i, au.Codec, codec)
		}
		if au.IsKeyframe != (i%gop == 0) {
			t.Errorf("access unit %d keyframe=%v, want one every %d", i, au.IsKeyframe, gop)
		}
		if i > 0 && (!au.Time.After(aus[i-1].Time) || au.PTS <= aus[i-1].PTS) {
			t.Fatalf("access unit %d not after %d: %v/%v then %v/%v", i, i-1, aus[i-1].Time, aus[i-1].PTS, au.Time, au.PTS)
		}
	}
	return aus
}

func TestFileH265(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clip.h265")
	x265(t, path, 10, 5, "-bf", "0", "-f", "hevc")
	aus := checkLoop(t, path, stillsv1.Codec_CODEC_H265, 25, 5)
	// The first access unit carries VPS, SPS, PPS before its IRAP slice.
	first := aus[0].NALUs
	if len(first) < 4 || H265Type(first[0]) != h265VPS || H265Type(first[1]) != h265SPS || H265Type(first[2]) != h265PPS {
		t.Errorf("first access unit types %v", types(first))
	}
	if d := aus[1].PTS - aus[0].PTS; d != 40*time.Millisecond {
		t.Errorf("frame step %v, want 40ms", d)
	}
}

func types(nalus [][]byte) []uint8 {
	var out []uint8
	for _, n := range nalus {
		out = append(out, H265Type(n))
	}
	return out
}

// An MPEG-TS file loops with one keyframe per GOP and times that keep
// increasing across loops (the TS restarts its clock at every pass), for
// H.264 with B-frames and for H.265.
func TestFileMPEGTS(t *testing.T) {
	tests := []struct {
		name  string
		codec stillsv1.Codec
		make  func(t *testing.T, path string)
	}{
		{"h264 with B-frames", stillsv1.Codec_CODEC_H264, func(t *testing.T, path string) {
			testutil.Ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-frames:v", "10",
				"-c:v", "libx264", "-bf", "2", "-g", "5", "-keyint_min", "5", "-sc_threshold", "0", "-f", "mpegts", path)
		}},
		{"h265", stillsv1.Codec_CODEC_H265, func(t *testing.T, path string) {
			x265(t, path, 10, 5, "-f", "mpegts")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "clip.ts")
			tt.make(t, path)
			aus := checkLoop(t, path, tt.codec, 25, 5)
			// Paced in real time: 25 fps.
			if d := aus[20].Time.Sub(aus[0].Time); d < 700*time.Millisecond || d > 900*time.Millisecond {
				t.Errorf("20 frames span %v, want 800ms", d)
			}
		})
	}
}

func TestTSClock(t *testing.T) {
	const wrap = int64(1) << 33
	c := &tsClock{frame: 3600}
	tests := []struct {
		raw  int64
		want time.Duration
	}{
		{wrap - 3600, 0},
		{wrap - 3600 + 3600, 40 * time.Millisecond}, // == wrap: 0 after the wrap
		{3600, 80 * time.Millisecond},
		{3600, 120 * time.Millisecond},            // no step: one frame
		{100, 160 * time.Millisecond},             // a step back: one frame
		{3600 + 90000*60, 200 * time.Millisecond}, // a jump of a minute: one frame
		{3600 + 90000*60 + 1800, 220 * time.Millisecond},
	}
	for i, tt := range tests {
		if got := c.at(tt.raw % wrap); got != tt.want {
			t.Errorf("%d: at(%d) = %v, want %v", i, tt.raw%wrap, got, tt.want)
		}
	}
}

func TestGroupAccessUnitsH265(t *testing.T) {
	vps, sps, pps := []byte{32 << 1, 1}, []byte{33 << 1, 1}, []byte{34 << 1, 1}
	aud, sei := []byte{35 << 1, 1, 0x50}, []byte{39 << 1, 1, 5}
	idrA, idrB := []byte{19 << 1, 1, 0x80}, []byte{19 << 1, 1, 0x20} // first slice segment, then another
	p1, p2 := []byte{1 << 1, 1, 0x80}, []byte{1 << 1, 1, 0x80}
	got := groupAccessUnits(stillsv1.Codec_CODEC_H265, [][]byte{vps, sps, pps, sei, idrA, idrB, p1, p2, aud, p1, vps, sps, pps, idrA})
	want := [][][]byte{{vps, sps, pps, sei, idrA, idrB}, {p1}, {p2}, {aud, p1}, {vps, sps, pps, idrA}}
	if len(got) != len(want) {
		t.Fatalf("%d access units, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) || !bytes.Equal(got[i][0], want[i][0]) {
			t.Errorf("access unit %d = %x, want %x", i, got[i], want[i])
		}
	}
	for typ := uint8(0); typ < 40; typ++ {
		want := typ >= 16 && typ <= 21
		if got := IsKeyframe(stillsv1.Codec_CODEC_H265, [][]byte{{typ << 1, 1}}); got != want {
			t.Errorf("H.265 type %d keyframe=%v", typ, got)
		}
	}
}

// The camera's RTCP time wins when it is sane; a camera whose clock is not
// set (1970) falls back to the receive time.
func TestWallClockNTP(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var w wallClock
	camera := now.Add(-1500 * time.Millisecond)
	if got, _ := w.at(now, 0, 90000, camera); !got.Equal(camera) {
		t.Errorf("ntp: %v, want the camera's %v", got, camera)
	}
	if got, _ := w.at(now.Add(time.Second), 90000, 90000, time.Unix(10, 0)); !got.Equal(now.Add(time.Second)) {
		t.Errorf("unset camera clock: %v, want receive-based %v", got, now.Add(time.Second))
	}
}
