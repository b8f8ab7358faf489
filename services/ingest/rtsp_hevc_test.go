package ingest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/ingest"
)

// An ffmpeg camera pushes HEVC (libx265, in-band VPS/SPS/PPS at every
// keyframe and in the SDP): events say H265, the picture size, and their
// keyframes start with the VPS.
func TestRTSPHEVC(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hevc.mkv")
	testutil.Ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=480x270:rate=25", "-t", "4",
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=25:min-keyint=25:scenecut=0:repeat-headers=1",
		"-bf", "0", "-pix_fmt", "yuv420p", path)
	srv := testutil.StartRTSPServer(t)
	testutil.PushFFmpeg(t, path, srv.URL("hevc"))
	srv.WaitPublisher(t, "hevc", 10*time.Second)

	h := startIngest(t, ingest.Config{}, stream("hevc", srv.URL("hevc"), time.Second))
	evs := h.waitEvents(t, "hevc", 3, 15*time.Second)
	for i, ev := range evs {
		if ev.Codec != stillsv1.Codec_CODEC_H265 || ev.Width != 480 || ev.Height != 270 {
			t.Errorf("event %d: %v %dx%d, want H265 480x270", i, ev.Codec, ev.Width, ev.Height)
		}
		// 00 00 00 01 then a VPS (type 32) NAL header.
		if !bytes.HasPrefix(ev.Keyframe, []byte{0, 0, 0, 1}) || len(ev.Keyframe) < 5 || (ev.Keyframe[4]>>1)&0x3f != 32 {
			t.Errorf("event %d: keyframe does not start with a VPS: %x", i, ev.Keyframe[:min(8, len(ev.Keyframe))])
		}
		if len(ev.ParameterSets) != 3 {
			t.Errorf("event %d: %d parameter sets, want VPS, SPS, PPS", i, len(ev.ParameterSets))
		}
		if i > 0 && ev.TimeMs <= evs[i-1].TimeMs {
			t.Errorf("event %d: time %d not after %d", i, ev.TimeMs, evs[i-1].TimeMs)
		}
	}
}

// The camera changes resolution mid-stream (a clip of two sizes, in-band
// parameter sets): events follow the new SPS.
func TestRTSPResolutionChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var parts []string
	for _, size := range []string{"320x240", "640x360"} {
		p := filepath.Join(dir, size+".ts")
		testutil.Ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size="+size+":rate=25", "-t", "3",
			"-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "25", "-keyint_min", "25",
			"-sc_threshold", "0", "-pix_fmt", "yuv420p", "-f", "mpegts", p)
		parts = append(parts, p)
	}
	// Byte-concatenated TS: one stream whose SPS changes at the join.
	var all []byte
	for _, p := range parts {
		b, err := os.ReadFile(p)
		testutil.Must(t, err)
		all = append(all, b...)
	}
	joined := filepath.Join(dir, "joined.ts")
	testutil.Must(t, os.WriteFile(joined, all, 0o644))
	srv := testutil.StartRTSPServer(t)
	testutil.PushFFmpeg(t, joined, srv.URL("cam"))
	srv.WaitPublisher(t, "cam", 10*time.Second)

	h := startIngest(t, ingest.Config{}, stream("cam", srv.URL("cam"), time.Second))
	testutil.Eventually(t, 20*time.Second, func() error {
		seen := map[[2]uint32]bool{}
		for _, ev := range h.events(t, "cam") {
			seen[[2]uint32{ev.Width, ev.Height}] = true
		}
		if !seen[[2]uint32{320, 240}] || !seen[[2]uint32{640, 360}] || len(seen) != 2 {
			return testutil.Errorf("sizes seen %v, want 320x240 and 640x360", seen)
		}
		return nil
	})
}

// A camera that sends pictures but no keyframe for a long time stays
// online, says so in its status, and publishes nothing.
func TestNoKeyframes(t *testing.T) {
	t.Parallel()
	// 20 s with a single IDR at the start; ingest joins after it.
	path := filepath.Join(t.TempDir(), "long-gop.mkv")
	testutil.Ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", "20",
		"-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-g", "1000", "-keyint_min", "1000",
		"-sc_threshold", "0", "-pix_fmt", "yuv420p", path)
	srv := testutil.StartRTSPServer(t)
	testutil.PushFFmpeg(t, path, srv.URL("cam"))
	srv.WaitPublisher(t, "cam", 10*time.Second)
	h := startIngest(t, ingest.Config{KeyframeTimeout: time.Second}, stream("cam", srv.URL("cam"), time.Second))
	testutil.Eventually(t, 10*time.Second, func() error {
		st := h.status("cam")
		if st.Status != ingest.StatusOnline || !strings.Contains(st.LastError, "no keyframe for") {
			return testutil.Errorf("status %+v", st)
		}
		return nil
	})
	if n := len(h.events(t, "cam")); n != 0 {
		t.Errorf("%d events without keyframes", n)
	}
}
