package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/stills-video/stills/pkg/layout"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/gateway/internal/index"
)

// buildIndex writes n entries of stream, one per step, ending at last,
// in big transactions; the newest entry's keys are returned.
func buildIndex(db *index.DB, stream string, n int, step time.Duration, last time.Time) (first time.Time, err error) {
	const batch = 250_000
	first = last.Add(-time.Duration(n-1) * step)
	msgs := make([]index.Message, 0, batch)
	seq := uint64(0)
	for i := 0; i < n; i++ {
		tm := first.Add(time.Duration(i) * step)
		seq++
		msgs = append(msgs, index.Message{Seq: seq, Event: &stillsv1.ThumbnailStored{
			Stream: stream, TimeMs: tm.UnixMilli(), Source: "decode",
			Jpegs: []*stillsv1.StoredObject{{Key: layout.JPEG(stream, tm), Bytes: 16384, Width: 1280, Height: 720}},
			Mp4:   &stillsv1.StoredObject{Key: layout.MP4(stream, tm), Bytes: 60000, Width: 1280, Height: 720},
		}})
		if len(msgs) == batch || i == n-1 {
			if _, err := db.Apply(msgs); err != nil {
				return first, fmt.Errorf("build index: %w", err)
			}
			msgs = msgs[:0]
		}
	}
	return first, nil
}

// nearestP99 measures Index.Nearest at random times within [from, to].
func nearestP99(db *index.DB, stream string, from, to time.Time, samples int) (time.Duration, error) {
	d := make([]time.Duration, samples)
	span := to.UnixMilli() - from.UnixMilli()
	for i := range d {
		ms := from.UnixMilli() + rand.Int64N(span+1)
		start := time.Now()
		if _, ok, err := db.Nearest(stream, ms); err != nil || !ok {
			return 0, fmt.Errorf("nearest %d: ok=%v err=%v", ms, ok, err)
		}
		d[i] = time.Since(start)
	}
	slices.Sort(d)
	return d[len(d)*99/100], nil
}
