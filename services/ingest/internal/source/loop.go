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
var loadFakeClip = sync.OnceValues(func() (*clip, error) { return parseClip(fakeClipData, stillsv1.Codec_CODEC_H264) })

// newFileSource loops a file: MPEG-TS (.ts, .m2ts, .mts), raw H.265
// (.h265, .hevc, .265) or raw H.264 (anything else). It is read at every
// Run, so a file that appears later or changes is picked up on the next
// retry.
func newFileSource(path string) *loopSource {
	load := func() (*clip, error) {
		ext := strings.ToLower(filepath.Ext(path))
		switch ext {
		case ".mp4", ".mkv", ".mov":
			return nil, fmt.Errorf("%w: %s (MPEG-TS or raw Annex-B H.264/H.265 only)", ErrUnsupported, ext)
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
		switch ext {
		case ".ts", ".m2ts", ".mts":
			return parseTS(data)
		case ".h265", ".hevc", ".265":
			return parseClip(data, stillsv1.Codec_CODEC_H265)
		}
		return parseClip(data, stillsv1.Codec_CODEC_H264)
	}
	return &loopSource{load: load, name: "file://" + path}
}

// loopSource plays a clip in real time, forever, with timestamps that keep
// increasing across loops.
type loopSource struct {
	load func() (*clip, error)
	name string
}

// tick is how often a loop wakes up to emit what is due.
const tick = 10 * time.Millisecond

func (s *loopSource) Run(ctx context.Context, emit func(AccessUnit)) error {
	c, err := s.load()
	if err != nil {
		return err
	}
	// Access unit i of pass k is due at start + k*loop + at(i): the ticker
	// only wakes us up; the schedule is absolute, so it never drifts and a
	// late wake-up catches up.
	start := time.Now()
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for n := 0; ; {
		now := time.Now()
		for {
			au := c.aus[n%len(c.aus)]
			pts := time.Duration(n/len(c.aus))*c.loop + au.at
			due := start.Add(pts)
			if due.After(now) {
				break
			}
			emit(AccessUnit{
				Codec:      c.codec,
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
		case <-tk.C:
		}
	}
}
