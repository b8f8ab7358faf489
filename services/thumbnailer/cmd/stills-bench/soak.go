package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer/internal/worker"
)

func numCPU() int { return runtime.GOMAXPROCS(0) }

// soak runs n decode+JPEG thumbnails on one Renderer, alternating H.264
// and H.265 640×360 keyframes and two output sizes, and prints VmRSS
// before, at 10% (after warm-up), at 50% and at the end.
func soak(ctx context.Context, w io.Writer, ffmpeg, dir string, n int) error {
	var keys []key
	for _, s := range []keySpec{
		{"360p h264", stillsv1.Codec_CODEC_H264, 640, 360, "1M"},
		{"360p h265", stillsv1.Codec_CODEC_H265, 640, 360, "1M"},
	} {
		k, err := makeKey(ctx, ffmpeg, dir, s)
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	st := &stillsv1.ThumbnailSettings{Quality: quality, Sizes: []*stillsv1.Size{{Width: 320}, {Width: 160}}}
	r := worker.NewRenderer(true)
	defer r.Close()
	before, err := RSS()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "soak: %d thumbnails (decode + 2 JPEGs each), RSS before: %.1f MiB\n", n, mib(before))
	start := time.Now()
	var warm int64
	for i := range n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		k := keys[i%len(keys)]
		if _, err := r.Render(k.codec, k.au, 0, 0, "soak", time.Unix(0, 0), st, 0); err != nil {
			return err
		}
		if done := i + 1; done == n/10 || done == n/2 || done == n {
			rss, err := RSS()
			if err != nil {
				return err
			}
			if done == n/10 {
				warm = rss
			}
			fmt.Fprintf(w, "soak: %7d done (%3d%%) RSS %.1f MiB, %+.1f MiB since 10%%, %.0f thumbnails/s\n",
				done, done*100/n, mib(rss), mib(rss-warm), float64(done)/time.Since(start).Seconds())
		}
	}
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// RSS is the process's resident set (VmRSS of /proc/self/status), bytes.
func RSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}
