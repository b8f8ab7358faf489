package thumbnailer_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer"
	"github.com/stills-video/stills/services/thumbnailer/internal/testmedia"
)

// patientConsumer redelivers quickly and often enough to outlast a short
// storage outage (the production consumer spreads its deliveries over
// minutes with server-side BackOff).
func patientConsumer(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	c, err := bus.ThumbnailerConsumer(ctx, js)
	if err != nil {
		return nil, err
	}
	cfg := c.CachedInfo().Config
	cfg.BackOff = nil
	cfg.MaxDeliver = 200
	cfg.AckWait = 5 * time.Second
	return js.CreateOrUpdateConsumer(ctx, bus.StreamSegments, cfg)
}

// The S3 server (a real versitygw) goes away while events flow and comes
// back: every event ends up stored, exactly one record each on THUMBS,
// nothing terminated.
func TestStorageOutage(t *testing.T) {
	s3 := testutil.StartS3Server(t)
	store, err := blob.NewS3(testutil.Context(t), s3.Config)
	testutil.Must(t, err)
	e := startWith(t, thumbnailer.Config{Backoff: func(uint64) time.Duration { return 50 * time.Millisecond }},
		func(blob.Store) blob.Store { return store }, patientConsumer)
	au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	st := settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED)
	var published []int64
	var next atomic.Int64
	next.Store(1_700_000_000_000)
	publish := func(n int) {
		for range n {
			ms := next.Add(1000)
			e.publish("cam1", ms, au, st, fmt.Sprint(ms))
			published = append(published, ms)
		}
	}
	publish(10)
	e.waitStats("first events stored", func(s thumbnailer.Stats) bool { return s.Stored >= 3 })
	s3.Stop()
	publish(10)
	e.waitStats("storage errors seen", func(s thumbnailer.Stats) bool { return s.Naks >= 2 })
	s3.Start()
	publish(10)
	e.waitStats("all stored", func(s thumbnailer.Stats) bool { return s.Stored == int64(len(published)) })

	if s := e.svc.Stats(); s.Terminated != 0 {
		t.Fatalf("stats %+v: something was terminated", s)
	}
	recs, _ := records(e, bus.StreamThumbs, func() *stillsv1.ThumbnailStored { return &stillsv1.ThumbnailStored{} })
	var got []int64
	for _, r := range recs {
		got = append(got, r.GetTimeMs())
	}
	slices.Sort(got)
	if !slices.Equal(got, published) {
		t.Fatalf("THUMBS holds %d records %v, want exactly one for each of %v", len(got), got, published)
	}
	for _, ms := range published {
		tm := layout.FromMillis(ms)
		for _, k := range []string{layout.JPEG("cam1", tm), layout.MP4("cam1", tm)} {
			if _, err := store.Stat(e.ctx, k); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
	}
}

// slowStore delays the first Put of the MP4 key it is given beyond the
// consumer's AckWait.
type slowStore struct {
	blob.Store
	key   string
	delay time.Duration
	puts  atomic.Int64
}

func (s *slowStore) Put(ctx context.Context, key string, data []byte, ct string) error {
	if key == s.key && s.puts.Add(1) == 1 {
		select {
		case <-time.After(s.delay): // a slow store, not a wait for an event
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Store.Put(ctx, key, data, ct)
}

// An event that takes longer than AckWait is kept with InProgress and is
// not redelivered to the other worker meanwhile.
func TestLongWorkInProgress(t *testing.T) {
	key := layout.MP4("cam1", layout.FromMillis(1000))
	var slow *slowStore
	shortAck := func(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
		c, err := quickConsumer(ctx, js)
		if err != nil {
			return nil, err
		}
		cfg := c.CachedInfo().Config
		cfg.AckWait = time.Second
		return js.CreateOrUpdateConsumer(ctx, bus.StreamSegments, cfg)
	}
	e := start(t, func(s blob.Store) blob.Store {
		slow = &slowStore{Store: s, key: key, delay: 2500 * time.Millisecond}
		return slow
	}, shortAck)
	au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	e.publish("cam1", 1000, au, settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED), "x")
	e.waitStats("stored", func(s thumbnailer.Stats) bool { return s.Stored == 1 })
	if s := e.svc.Stats(); s.InProgress < 2 || s.Naks != 0 {
		t.Fatalf("stats %+v, want InProgress signals and no naks", s)
	}
	if n := slow.puts.Load(); n != 1 {
		t.Fatalf("the MP4 was put %d times: the event was redelivered", n)
	}
}
