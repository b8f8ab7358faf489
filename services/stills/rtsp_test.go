package stills_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/testutil"
)

// An independent camera (the ffmpeg CLI) pushes H.264 into an RTSP server
// started by the test; ingest pulls it; the stored JPEG matches ffmpeg's
// own decode of the same keyframe.
func TestRTSPCameraMatchesFFmpegDecode(t *testing.T) {
	clip := filepath.Join(t.TempDir(), "camera.mp4")
	testutil.Ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-t", "6",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
		"-b:v", "2M", "-pix_fmt", "yuv420p", clip)
	srv := testutil.StartRTSPServer(t)
	testutil.PushFFmpeg(t, clip, srv.URL("camera"))
	srv.WaitPublisher(t, "camera", 15*time.Second)

	const name = "rtsp/camera"
	// Quality 90: the comparison is about the decode path (range, chroma,
	// scaling); at the default 80 JPEG's own loss on testsrc2's sharp edges
	// already costs most of the margin (36.5 dB measured).
	base := startOneBox(t, config.Stream{Name: name, URL: srv.URL("camera"), SegmentDuration: config.Duration(time.Second),
		Thumbnails: config.Thumbnails{Quality: 90}})
	ts := waitThumbnails(t, base, name, 2, 30*time.Second)

	for _, sec := range ts[:2] {
		j := get(t, fmt.Sprintf("%s/%s/%s.jpg", base, name, datePath(sec)))
		m := get(t, fmt.Sprintf("%s/%s/%s-preview.mp4", base, name, datePath(sec)))
		if j.status != http.StatusOK || m.status != http.StatusOK {
			t.Fatalf("at %d: jpeg %d, mp4 %d", sec, j.status, m.status)
		}
		ours := decodeJPEG(t, j.body)
		if sz := ours.Bounds().Size(); sz.X != 1280 || sz.Y != 720 {
			t.Fatalf("JPEG is %v, want 1280x720", sz)
		}
		ref := ffmpegDecodePNG(t, m.body)
		if p := psnr(t, ref, ours); p < 35 {
			t.Fatalf("PSNR of the stored JPEG against ffmpeg's decode of the keyframe: %.1f dB, want >= 35", p)
		} else {
			t.Logf("keyframe %d: PSNR %.1f dB against ffmpeg's decode", sec, p)
		}
	}
}
