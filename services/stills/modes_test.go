package stills_test

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/testutil"
)

// ffprobeCodec names the video codec and its tag of an MP4 ("hevc hvc1").
func ffprobeCodec(t *testing.T, mp4 []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.mp4")
	testutil.Must(t, writeFile(p, mp4))
	out, err := exec.Command(testutil.Tool(t, "ffprobe"), "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,codec_tag_string", "-of", "csv=p=0", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, out)
	}
	return strings.ReplaceAll(strings.TrimSpace(string(out)), ",", " ")
}

// An HEVC camera through RTSP: JPEG at the source size, MP4 is hvc1.
func TestOneBox_HEVCCamera(t *testing.T) {
	clip := filepath.Join(t.TempDir(), "hevc.mkv")
	testutil.Ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-t", "4",
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=25:min-keyint=25:scenecut=0:bframes=0:log-level=error",
		"-pix_fmt", "yuv420p", clip)
	srv := testutil.StartRTSPServer(t)
	testutil.PushFFmpeg(t, clip, srv.URL("hevc"))
	srv.WaitPublisher(t, "hevc", 15*time.Second)

	const name = "hevc/cam"
	base := startOneBox(t, config.Stream{Name: name, URL: srv.URL("hevc"), SegmentDuration: config.Duration(time.Second)})
	ts := waitThumbnails(t, base, name, 2, 30*time.Second)
	j := get(t, fmt.Sprintf("%s/%s/%s.jpg", base, name, datePath(ts[1])))
	if j.status != http.StatusOK {
		t.Fatalf("JPEG: %d %s", j.status, j.body)
	}
	if sz := decodeJPEG(t, j.body).Bounds().Size(); sz.X != 1280 || sz.Y != 720 {
		t.Fatalf("HEVC JPEG %v, want 1280x720", sz)
	}
	m := get(t, fmt.Sprintf("%s/%s/%s-preview.mp4", base, name, datePath(ts[1])))
	if m.status != http.StatusOK || ffprobeFrames(t, m.body) != 1 || ffprobeCodec(t, m.body) != "hevc hvc1" {
		t.Fatalf("HEVC MP4: %d, codec %q", m.status, ffprobeCodec(t, m.body))
	}
	if p := psnr(t, ffmpegDecodePNG(t, m.body), decodeJPEG(t, j.body)); p < 33 {
		t.Fatalf("HEVC JPEG vs ffmpeg decode: %.1f dB", p)
	}
}

// An anamorphic PAL source (720x576, SAR 64:45 = 16:9 display) from a
// file:// MPEG-TS: sizes fit the display aspect, never upscale, and every
// configured size is stored and served through ?width=&height=.
func TestOneBox_AnamorphicSizes(t *testing.T) {
	ts := filepath.Join(t.TempDir(), "pal.ts")
	testutil.Ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=720x576:rate=25", "-t", "4", "-vf", "setsar=64/45",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-bf", "0",
		"-pix_fmt", "yuv420p", "-f", "mpegts", ts)
	const name = "pal"
	base := startOneBox(t, config.Stream{Name: name, URL: "file://" + ts, SegmentDuration: config.Duration(time.Second),
		Thumbnails: config.Thumbnails{Sizes: []config.Size{{Width: 320, Height: 320}, {Width: 2000, Height: 2000}, {Width: 100, Height: 40}}}})
	got := waitThumbnails(t, base, name, 2, 30*time.Second)
	prefix := fmt.Sprintf("%s/%s/%s", base, name, datePath(got[1]))
	for _, tc := range []struct {
		url  string
		w, h int
	}{
		{prefix + ".jpg", 320, 180},                         // first size is canonical: 16:9 in 320x320
		{prefix + ".jpg?width=2000&height=2000", 1024, 576}, // never upscaled past the display size
		{prefix + ".jpg?width=72&height=40", 72, 40},        // height-bound: 71.1 rounds to the even 72
		{prefix + ".jpg?width=300", 320, 180},               // the smallest size that covers the request
	} {
		r := get(t, tc.url)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.url, r.status, r.body)
		}
		if sz := decodeJPEG(t, r.body).Bounds().Size(); sz.X != tc.w || sz.Y != tc.h {
			t.Errorf("%s is %v, want %dx%d", tc.url, sz, tc.w, tc.h)
		}
	}
}

// enabled: false answers 403 on JPEG URLs while MP4s stay available;
// enabled: ondemand stores only MP4s and renders a JPEG when asked,
// through the thumbnailers' render service.
func TestOneBox_DisabledAndOnDemand(t *testing.T) {
	base := startOneBox(t,
		config.Stream{Name: "off", URL: "fake://off", SegmentDuration: config.Duration(time.Second),
			Thumbnails: config.Thumbnails{Enabled: config.ModeDisabled}},
		config.Stream{Name: "lazy", URL: "fake://lazy", SegmentDuration: config.Duration(time.Second),
			Thumbnails: config.Thumbnails{Enabled: config.ModeOnDemand, Sizes: []config.Size{{Width: 320, Height: 180}}}},
	)
	testutil.Eventually(t, 20*time.Second, func() error {
		_, err := getOK(base + "/off/preview.mp4")
		return err
	})
	for _, p := range []string{"/off/preview.jpg", fmt.Sprintf("/off/%d-preview.jpg", time.Now().Unix()), fmt.Sprintf("/off/%d.jpg", time.Now().Unix())} {
		if r := get(t, base+p); r.status != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", p, r.status)
		}
	}

	// ondemand: the MP4 is there, the JPEG is rendered on the first request.
	var mp4 response
	testutil.Eventually(t, 20*time.Second, func() (err error) {
		mp4, err = getOK(base + "/lazy/preview.mp4")
		return err
	})
	if n := ffprobeFrames(t, mp4.body); n != 1 {
		t.Fatalf("ondemand MP4: %d frames", n)
	}
	at := time.Now().Unix()
	r := get(t, fmt.Sprintf("%s/lazy/%d-preview.jpg", base, at))
	if r.status != http.StatusFound {
		t.Fatalf("ondemand %d-preview.jpg: %d %s", at, r.status, r.body)
	}
	j := get(t, base+r.header.Get("Location"))
	if j.status != http.StatusOK {
		t.Fatalf("ondemand render %s: %d %s", r.header.Get("Location"), j.status, j.body)
	}
	if sz := decodeJPEG(t, j.body).Bounds().Size(); sz.X != 320 || sz.Y != 180 {
		t.Fatalf("rendered JPEG %v, want 320x180", sz)
	}
	// Rendered once, then served from storage: the same bytes again.
	if again := get(t, base+r.header.Get("Location")); again.status != http.StatusOK || string(again.body) != string(j.body) {
		t.Fatalf("second request: %d, same bytes %v", again.status, string(again.body) == string(j.body))
	}
}
