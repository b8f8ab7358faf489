package worker

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer/internal/testmedia"
)

// rss is VmRSS from /proc/self/status, bytes.
func rss(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// The short soak (stills-bench -soak runs 100,000): 3,000 decode + JPEG
// thumbnails on one Renderer, alternating codecs, sizes and a bad access
// unit, must not grow the resident set by 32 MiB after warm-up.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	h264 := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	h265 := testmedia.Keyframe(t, testmedia.Spec{Codec: "h265", Width: 320, Height: 240})
	r := NewRenderer(true)
	defer r.Close()
	st := &stillsv1.ThumbnailSettings{Quality: 80, Sizes: []*stillsv1.Size{{Width: 160}, {Width: 64}}}
	const n, warmup = 3000, 300
	var base int64
	for i := range n {
		codec, au := stillsv1.Codec_CODEC_H264, h264
		if i%2 == 1 {
			codec, au = stillsv1.Codec_CODEC_H265, h265
		}
		if i%50 == 7 {
			au = au[:len(au)/2] // a failure frees the context; that must not leak either
		}
		_, err := r.Render(codec, au, 0, 0, "soak", time.Unix(0, 0), st, 0)
		if (err != nil) != (i%50 == 7) {
			t.Fatalf("render %d: %v", i, err)
		}
		if i == warmup {
			base = rss(t)
		}
	}
	if grown := rss(t) - base; grown > 32<<20 {
		t.Fatalf("RSS grew %d MiB over %d thumbnails after warm-up", grown>>20, n-warmup)
	} else {
		t.Logf("RSS %+.1f MiB over %d thumbnails after warm-up", float64(grown)/(1<<20), n-warmup)
	}
}
