package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/pkg/natsembed"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer"
	"github.com/stills-video/stills/services/thumbnailer/internal/worker"
)

// The thumbnail every contender makes: 320 px wide, quality 80 (libav
// qscale 8, the same -q:v for the CLI), from a decode that skips the loop
// filter (Stills' default; the CLI is given the same option so both do
// the same decode work).
const (
	thumbWidth = 320
	quality    = 80
	cliQScale  = "8"
)

var thumbSettings = &stillsv1.ThumbnailSettings{
	Mode: stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED, Quality: quality,
	Sizes: []*stillsv1.Size{{Width: thumbWidth}},
}

// rate runs fn until d has passed (at least once) and returns calls/s.
func rate(d time.Duration, fn func() error) (float64, error) {
	start := time.Now()
	n := 0
	for n == 0 || time.Since(start) < d {
		if err := fn(); err != nil {
			return 0, err
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// decodeOnly is libav decoding alone on one goroutine (one core).
func decodeOnly(k key, d time.Duration) (float64, error) {
	r := worker.NewRenderer(true)
	defer r.Close()
	none := &stillsv1.ThumbnailSettings{}
	// Render from size index 1 of a one-size list: decode, no JPEG.
	return rate(d, func() error {
		_, err := r.Render(k.codec, k.au, 0, 0, "bench", time.Unix(0, 0), none, 1)
		return err
	})
}

// decodeJPEG is decode + scale + JPEG on one goroutine, no bus or store.
func decodeJPEG(k key, d time.Duration) (float64, error) {
	r := worker.NewRenderer(true)
	defer r.Close()
	return rate(d, func() error {
		_, err := r.Render(k.codec, k.au, 0, 0, "bench", time.Unix(0, 0), thumbSettings, 0)
		return err
	})
}

// endToEnd: n events queued on SEGMENTS of an embedded JetStream server,
// then a thumbnailer service with the given workers consumes them
// (decode → JPEG → MP4 → local store → ThumbnailStored → ack). The rate is
// events / time from Run to the last ack.
func endToEnd(ctx context.Context, k key, workers, n int, dir string) (float64, error) {
	srv, err := natsembed.Start(natsembed.Options{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		return 0, err
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := bus.JetStream(nc)
	if err != nil {
		return 0, err
	}
	if err := bus.EnsureStreams(ctx, js, bus.Options{}); err != nil {
		return 0, err
	}
	const stream = "bench"
	t0 := int64(1_700_000_000_000)
	for i := range n {
		ms := t0 + int64(i)*1000
		data, err := proto.Marshal(&stillsv1.SegmentStarted{Stream: stream, TimeMs: ms, Codec: k.codec,
			Width: uint32(k.width), Height: uint32(k.height), Keyframe: k.au, Settings: thumbSettings})
		if err != nil {
			return 0, err
		}
		if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: bus.SegmentSubject(stream), Data: data},
			jetstream.WithMsgID(bus.MsgID(stream, ms))); err != nil {
			return 0, err
		}
	}
	store, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		return 0, err
	}
	svc, err := thumbnailer.New(thumbnailer.Config{Workers: workers, SkipLoopFilter: true}, js, store)
	if err != nil {
		return 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- svc.Run(runCtx) }()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for svc.Stats().Stored < int64(n) {
		select {
		case err := <-done:
			cancel()
			return 0, fmt.Errorf("run ended: %v (stats %+v)", err, svc.Stats())
		case <-tick.C:
		}
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		return 0, err
	}
	if s := svc.Stats(); s.Terminated != 0 || s.Errors != 0 {
		return 0, fmt.Errorf("stats %+v", s)
	}
	if _, err := store.Stat(ctx, layout.JPEG(stream, layout.FromMillis(t0))); err != nil {
		return 0, err
	}
	return float64(n) / elapsed.Seconds(), nil
}

// cliPerProcess: one ffmpeg process per thumbnail, one thread.
func cliPerProcess(ctx context.Context, ffmpeg string, k key, d time.Duration, dir string) (float64, error) {
	out := filepath.Join(dir, "cli.jpg")
	return rate(d, func() error {
		cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
			"-threads", "1", "-skip_loop_filter", "all", "-i", k.path,
			"-frames:v", "1", "-vf", fmt.Sprintf("scale=%d:-2", thumbWidth), "-threads", "1", "-filter_threads", "1",
			"-q:v", cliQScale, out)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("ffmpeg: %v\n%s", err, b)
		}
		return nil
	})
}

// cliLongRunning: one ffmpeg process, one thread, decoding n copies of
// the keyframe from one file and writing n JPEGs to a pipe. Returns
// thumbnails/s (total time / n) and the frames it produced.
func cliLongRunning(ctx context.Context, ffmpeg string, k key, n int, dir string) (float64, int, error) {
	many := filepath.Join(dir, "many."+filepath.Ext(k.path)[1:])
	if err := os.WriteFile(many, bytes.Repeat(k.au, n), 0o644); err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-loglevel", "error",
		"-threads", "1", "-skip_loop_filter", "all", "-i", many,
		"-vf", fmt.Sprintf("scale=%d:-2", thumbWidth), "-fps_mode", "passthrough",
		"-threads", "1", "-filter_threads", "1", "-c:v", "mjpeg", "-q:v", cliQScale, "-f", "image2pipe", "-")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	frames, err := countJPEGs(stdout)
	if werr := cmd.Wait(); werr != nil {
		return 0, 0, fmt.Errorf("ffmpeg: %v\n%s", werr, stderr.String())
	}
	if err != nil {
		return 0, 0, err
	}
	return float64(frames) / time.Since(start).Seconds(), frames, nil
}

// countJPEGs counts start-of-image markers (FF D8 FF) in a JPEG stream;
// entropy-coded data never holds FF D8 (FF is stuffed with 00).
func countJPEGs(r io.Reader) (int, error) {
	buf := make([]byte, 1<<16)
	var prev [2]byte
	n := 0
	for {
		m, err := r.Read(buf)
		chunk := append(prev[:], buf[:m]...)
		for i := 0; i+2 < len(chunk); i++ {
			if chunk[i] == 0xff && chunk[i+1] == 0xd8 && chunk[i+2] == 0xff {
				n++
			}
		}
		if len(chunk) >= 2 {
			copy(prev[:], chunk[len(chunk)-2:])
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// psnr decodes key with and without the loop filter (libav through the
// ffmpeg CLI) and returns the average PSNR of the skipped decode against
// the full one, at the source size and at the thumbnail size.
func psnr(ctx context.Context, ffmpeg string, k key) (full, thumb float64, err error) {
	run := func(graph string) (float64, error) {
		out, err := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostats", "-i", k.path,
			"-skip_loop_filter", "all", "-i", k.path, "-lavfi", graph, "-f", "null", "-").CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("ffmpeg psnr: %v\n%s", err, out)
		}
		i := bytes.LastIndex(out, []byte("average:"))
		if i < 0 {
			return 0, fmt.Errorf("no PSNR in %s", out)
		}
		f := bytes.Fields(out[i+len("average:"):])
		if len(f) == 0 {
			return 0, fmt.Errorf("no PSNR in %s", out)
		}
		return strconv.ParseFloat(string(f[0]), 64)
	}
	if full, err = run("[1:v][0:v]psnr"); err != nil {
		return 0, 0, err
	}
	s := fmt.Sprintf("scale=%d:-2:flags=area", thumbWidth)
	thumb, err = run(fmt.Sprintf("[0:v]%s[a];[1:v]%s[b];[b][a]psnr", s, s))
	return full, thumb, err
}
