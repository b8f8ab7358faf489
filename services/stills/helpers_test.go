package stills_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/testutil"
)

// noRedirect is an HTTP client that shows redirects instead of following.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, url string) response {
	t.Helper()
	resp, err := noRedirect.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

// getOK is get for Eventually: an error until the status is 200.
func getOK(url string) (response, error) {
	resp, err := noRedirect.Get(url)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return response{}, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return response{resp.StatusCode, resp.Header, body}, nil
}

func decodeJPEG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a JPEG (%d bytes): %v", len(b), err)
	}
	return img
}

// briefThumbnails asks recording_status.json for the thumbnails of the
// last hour.
func briefThumbnails(base, stream string) ([]int64, error) {
	from := time.Now().Add(-time.Hour).Unix()
	r, err := getOK(fmt.Sprintf("%s/%s/recording_status.json?from=%d&to=now&request=ranges,brief_thumbnails", base, stream, from))
	if err != nil {
		return nil, err
	}
	var out []struct {
		Stream          string  `json:"stream"`
		BriefThumbnails []int64 `json:"brief_thumbnails"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		return nil, fmt.Errorf("recording_status: %v: %s", err, r.body)
	}
	if len(out) != 1 || out[0].Stream != stream {
		return nil, fmt.Errorf("recording_status: unexpected %s", r.body)
	}
	return out[0].BriefThumbnails, nil
}

func waitThumbnails(t *testing.T, base, stream string, n int, timeout time.Duration) []int64 {
	t.Helper()
	var ts []int64
	testutil.Eventually(t, timeout, func() error {
		var err error
		if ts, err = briefThumbnails(base, stream); err != nil {
			return err
		}
		if len(ts) < n {
			return fmt.Errorf("%d thumbnails, want %d", len(ts), n)
		}
		return nil
	})
	return ts
}

func datePath(unix int64) string { return time.Unix(unix, 0).UTC().Format("2006/01/02/15/04/05") }

// ffprobeFrames counts the video frames of an MP4 by decoding it.
func ffprobeFrames(t *testing.T, mp4 []byte) int {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t.mp4")
	testutil.Must(t, os.WriteFile(p, mp4, 0o644))
	out, err := exec.Command(testutil.Tool(t, "ffprobe"), "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, out)
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(string(out)), ",")))
	if err != nil {
		t.Fatalf("ffprobe output %q", out)
	}
	return n
}

// ffmpegDecodePNG decodes the first frame of an MP4 with the ffmpeg CLI,
// the independent reference decoder.
func ffmpegDecodePNG(t *testing.T, mp4 []byte) image.Image {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.mp4"), filepath.Join(dir, "out.png")
	testutil.Must(t, os.WriteFile(in, mp4, 0o644))
	testutil.Ffmpeg(t, "-i", in, "-frames:v", "1", out)
	b, err := os.ReadFile(out)
	testutil.Must(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	testutil.Must(t, err)
	return img
}

// psnr of b against reference a over RGB, in dB.
func psnr(t *testing.T, a, b image.Image) float64 {
	t.Helper()
	if a.Bounds().Size() != b.Bounds().Size() {
		t.Fatalf("sizes differ: %v vs %v", a.Bounds().Size(), b.Bounds().Size())
	}
	var sum float64
	var n int
	ab, bb := a.Bounds(), b.Bounds()
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			for _, d := range []float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				sum += d * d
				n++
			}
		}
	}
	mse := sum / float64(n)
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

func writeFile(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }
