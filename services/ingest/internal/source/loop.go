package source

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// MaxFileBytes bounds a file:// source (it is looped from memory).
const MaxFileBytes = 256 << 20

//go:embed fakeclip/clip.h264
var fakeClipData []byte

// loadFakeClip parses the embedded clip once; every fake:// stream shares it.
var loadFakeClip = sync.OnceValues(func() (*clip, error) { return parseClip(fakeClipData) })

// newFileSource loops a raw Annex-B H.264 file (read at every Run, so a
// file that appears later or changes is picked up on the next retry).
func newFileSource(path string) *loopSource {
	load := func() (*clip, error) {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".ts", ".mts", ".m2ts", ".mp4", ".mkv", ".hevc", ".h265", ".265":
			return nil, fmt.Errorf("%w: %s (raw H.264 Annex-B only)", ErrUnsupported, filepath.Ext(path))
		}
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		if fi.Size() > MaxFileBytes {
			return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrFileTooLarge, fi.Size(), MaxFileBytes)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		return parseClip(data)
	}
	return &loopSource{load: load, name: "file://" + path}
}

// loopSource plays a clip in real time, forever, with timestamps that keep
// increasing across loops.
type loopSource struct {
	load func() (*clip, error)
	name string
}

func (s *loopSource) Run(ctx context.Context, emit func(AccessUnit)) error {
	c, err := s.load()
	if err != nil {
		return err
	}
	// Frame n is due at start + n*frameDur: the ticker only wakes us up;
	// the schedule is absolute, so it never drifts and a late wake-up
	// catches up.
	start := time.Now()
	tick := time.NewTicker(c.frameDur)
	defer tick.Stop()
	for n := 0; ; {
		now := time.Now()
		for {
			pts := time.Duration(n) * c.frameDur
			due := start.Add(pts)
			if due.After(now) {
				break
			}
			au := c.aus[n%len(c.aus)]
			emit(AccessUnit{
				Codec:      stillsv1.Codec_CODEC_H264,
				NALUs:      au.nalus,
				IsKeyframe: au.keyframe,
				Time:       due.UTC(),
				PTS:        pts,
			})
			n++
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
