// Package testmedia makes real keyframes with the ffmpeg CLI for the
// thumbnailer's tests. Only _test.go files import it.
package testmedia

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stills-video/stills/pkg/testutil"
)

// Spec describes a one-frame test clip.
type Spec struct {
	Codec  string // "h264" (default) or "h265"
	Width  int    // default 1280
	Height int    // default 720
	SAR    string // sample aspect ratio like "4/3"; empty = 1:1
	Source string // lavfi source; default testsrc
}

var (
	mu    sync.Mutex
	cache = map[Spec][]byte{}
)

// Keyframe encodes one intra picture of s and returns it as an Annex-B
// access unit with its parameter sets in-band. Results are cached for the
// test binary; callers get their own copy.
func Keyframe(t testing.TB, s Spec) []byte {
	t.Helper()
	if s.Width == 0 {
		s.Width, s.Height = 1280, 720
	}
	if s.Source == "" {
		s.Source = "testsrc"
	}
	mu.Lock()
	defer mu.Unlock()
	if b, ok := cache[s]; ok {
		return bytes.Clone(b)
	}
	b := encode(t, s)
	cache[s] = b
	return bytes.Clone(b)
}

func encode(t testing.TB, s Spec) []byte {
	t.Helper()
	enc, bsf, ext := "libx264", "h264_mp4toannexb", "h264"
	extra := []string{"-pix_fmt", "yuv420p"}
	if s.Codec == "h265" {
		enc, bsf, ext = "libx265", "hevc_mp4toannexb", "hevc"
		extra = append(extra, "-x265-params", "log-level=error")
	}
	vf := "null"
	if s.SAR != "" {
		vf = "setsar=" + s.SAR
	}
	out := filepath.Join(t.TempDir(), "key."+ext)
	args := []string{"-f", "lavfi", "-i", fmt.Sprintf("%s=size=%dx%d:rate=25", s.Source, s.Width, s.Height),
		"-vf", vf, "-frames:v", "1", "-c:v", enc}
	args = append(args, extra...)
	args = append(args, "-bsf:v", bsf, out)
	testutil.Ffmpeg(t, args...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
