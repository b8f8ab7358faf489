package thumbnailer_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer"
	"github.com/stills-video/stills/services/thumbnailer/internal/testmedia"
)

// failingStore fails Put while fail returns true, then passes through.
type failingStore struct {
	blob.Store
	fail func(key string) bool
	puts atomic.Int64
}

var errInjected = errors.New("injected storage failure")

func (s *failingStore) Put(ctx context.Context, key string, data []byte, ct string) error {
	s.puts.Add(1)
	if s.fail(key) {
		return errInjected
	}
	return s.Store.Put(ctx, key, data, ct)
}

// TestModes also runs on the production consumer.
func TestModes(t *testing.T) {
	e := start(t, nil, nil)
	au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	tests := []struct {
		stream    string
		mode      stillsv1.ThumbnailMode
		wantJPEGs int
	}{
		{"unspecified", stillsv1.ThumbnailMode_THUMBNAIL_MODE_UNSPECIFIED, 1},
		{"disabled", stillsv1.ThumbnailMode_THUMBNAIL_MODE_DISABLED, 0},
		{"ondemand", stillsv1.ThumbnailMode_THUMBNAIL_MODE_ONDEMAND, 0},
	}
	const ms = 1_700_000_000_000
	for _, tc := range tests {
		e.publish(tc.stream, ms, au, settings(tc.mode), bus.MsgID(tc.stream, ms))
	}
	e.waitStats("all stored", func(s thumbnailer.Stats) bool { return s.Stored == int64(len(tests)) })
	stored, _ := records(e, bus.StreamThumbs, func() *stillsv1.ThumbnailStored { return &stillsv1.ThumbnailStored{} })
	byStream := map[string]*stillsv1.ThumbnailStored{}
	for _, r := range stored {
		byStream[r.GetStream()] = r
	}
	for _, tc := range tests {
		t.Run(tc.stream, func(t *testing.T) {
			r := byStream[tc.stream]
			if r == nil || len(r.GetJpegs()) != tc.wantJPEGs || r.GetMp4().GetKey() == "" {
				t.Fatalf("record %v, want %d jpegs and an mp4", r, tc.wantJPEGs)
			}
			_, err := e.local.Stat(e.ctx, layout.JPEG(tc.stream, layout.FromMillis(ms)))
			if (tc.wantJPEGs == 0) != errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("jpeg stat: %v", err)
			}
			if tc.wantJPEGs == 1 && (r.GetJpegs()[0].GetWidth() != 320 || r.GetJpegs()[0].GetHeight() != 240) {
				t.Fatalf("source-size jpeg is %v", r.GetJpegs()[0])
			}
		})
	}
}

func TestInvalidEvents(t *testing.T) {
	e := start(t, nil, quickConsumer)
	au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	st := settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED)
	e.publishRaw(bus.SegmentSubject("cam1"), []byte{0xff, 0xff, 0xff}, "a") // not protobuf
	e.publish("cam1", 0, au, st, "b")                                       // no time
	e.publish("cam1", 1000, nil, st, "c")                                   // no keyframe
	e.publish("cam1", 1000, []byte{0, 0, 0, 1, 0x65, 1, 2, 3}, st, "d")     // no parameter sets
	e.publish("cam1", 1000, au, settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED, [2]uint32{9000, 10}), "e")
	// The event names another stream than its subject.
	e.publishRaw(bus.SegmentSubject("cam1"), mustMarshal(t, &stillsv1.SegmentStarted{
		Stream: "cam2", TimeMs: 1000, Codec: stillsv1.Codec_CODEC_H264, Keyframe: au,
	}), "f")
	e.waitStats("6 terminated", func(s thumbnailer.Stats) bool { return s.Terminated == 6 })
	dead, _ := records(e, bus.StreamDead, func() *stillsv1.DeadLetter { return &stillsv1.DeadLetter{} })
	reasons := map[string]int{}
	for _, d := range dead {
		reasons[strings.SplitN(d.GetReason(), ":", 2)[0]]++
		if d.GetStream() != "cam1" || d.GetSubject() != bus.SegmentSubject("cam1") {
			t.Fatalf("dead letter %v", d)
		}
	}
	if reasons["invalid_event"] != 5 || reasons["invalid_keyframe"] != 1 {
		t.Fatalf("reasons %v", reasons)
	}
	if s := e.svc.Stats(); s.Stored != 0 || s.Naks != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A redelivered event (here: the same event under another SEGMENTS msg id)
// rewrites the same keys and adds no second record to THUMBS.
func TestIdempotent(t *testing.T) {
	e := start(t, nil, quickConsumer)
	au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	st := settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED)
	e.publish("cam1", 5000, au, st, "first")
	e.waitStats("1 stored", func(s thumbnailer.Stats) bool { return s.Stored == 1 })
	e.publish("cam1", 5000, au, st, "second")
	e.waitStats("2 stored", func(s thumbnailer.Stats) bool { return s.Stored == 2 })
	stored, _ := records(e, bus.StreamThumbs, func() *stillsv1.ThumbnailStored { return &stillsv1.ThumbnailStored{} })
	if len(stored) != 1 {
		t.Fatalf("%d records on THUMBS, want 1", len(stored))
	}
}

func TestStorageFailureRetried(t *testing.T) {
	var fs *failingStore
	var failures atomic.Int64
	e := start(t, func(s blob.Store) blob.Store {
		fs = &failingStore{Store: s, fail: func(string) bool { return failures.Add(1) <= 3 }}
		return fs
	}, quickConsumer)
	au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	e.publish("cam1", 7000, au, settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED), "x")
	e.waitStats("stored after retries", func(s thumbnailer.Stats) bool { return s.Stored == 1 })
	if s := e.svc.Stats(); s.Naks != 3 || s.Errors != 3 || s.Terminated != 0 {
		t.Fatalf("stats %+v, want 3 naks and errors", s)
	}
	if _, err := e.local.Stat(e.ctx, layout.JPEG("cam1", layout.FromMillis(7000))); err != nil {
		t.Fatal(err)
	}
}

// A store that never recovers: on the consumer's last delivery the event
// is terminated with a dead letter rather than dropped by the server.
func TestStorageFailureExhausted(t *testing.T) {
	e := start(t, func(s blob.Store) blob.Store {
		return &failingStore{Store: s, fail: func(string) bool { return true }}
	}, quickConsumer)
	au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	e.publish("cam1", 7000, au, settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED), "x")
	e.waitStats("terminated", func(s thumbnailer.Stats) bool { return s.Terminated == 1 })
	want := int64(len(bus.ThumbnailerBackoff))
	if s := e.svc.Stats(); s.Naks != want {
		t.Fatalf("stats %+v, want %d naks", s, want)
	}
	dead, _ := records(e, bus.StreamDead, func() *stillsv1.DeadLetter { return &stillsv1.DeadLetter{} })
	if len(dead) != 1 || !strings.HasPrefix(dead[0].GetReason(), "retries_exceeded:") ||
		!strings.Contains(dead[0].GetReason(), errInjected.Error()) {
		t.Fatalf("dead letters %v", dead)
	}
}

// With THUMBS gone the record cannot be published: the event is retried
// and lands once the stream is back. The same for DEAD and a dead letter.
func TestPublishFailureRetried(t *testing.T) {
	for _, stream := range []string{bus.StreamThumbs, bus.StreamDead} {
		t.Run(stream, func(t *testing.T) {
			e := start(t, nil, quickConsumer)
			testutil.Must(t, e.nats.JS.DeleteStream(e.ctx, stream))
			au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
			if stream == bus.StreamDead {
				au = au[:len(au)/2]
			}
			e.publish("cam1", 9000, au, settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED), "x")
			e.waitStats("a nak", func(s thumbnailer.Stats) bool { return s.Naks >= 1 })
			testutil.Must(t, bus.EnsureStreams(e.ctx, e.nats.JS, bus.Options{}))
			e.waitStats("settled", func(s thumbnailer.Stats) bool { return s.Stored+s.Terminated == 1 })
			s, err := e.nats.JS.Stream(e.ctx, stream)
			testutil.Must(t, err)
			info, err := s.Info(e.ctx)
			testutil.Must(t, err)
			if info.State.Msgs != 1 {
				t.Fatalf("%s holds %d messages, want 1", stream, info.State.Msgs)
			}
		})
	}
}

func TestRunWithoutStreams(t *testing.T) {
	n := testutil.StartNATS(t)
	local, err := blob.NewLocal(t.TempDir())
	testutil.Must(t, err)
	svc, err := thumbnailer.New(thumbnailer.Config{}, n.JS, local)
	testutil.Must(t, err)
	if err := svc.Run(testutil.Context(t)); err == nil {
		t.Fatal("Run without the SEGMENTS stream returned nil")
	}
}

func TestNewErrors(t *testing.T) {
	n := testutil.StartNATS(t)
	local, err := blob.NewLocal(t.TempDir())
	testutil.Must(t, err)
	if _, err := thumbnailer.New(thumbnailer.Config{}, nil, local); !errors.Is(err, thumbnailer.ErrNoJetStream) {
		t.Fatalf("no js: %v", err)
	}
	if _, err := thumbnailer.New(thumbnailer.Config{}, n.JS, nil); !errors.Is(err, thumbnailer.ErrNoStore) {
		t.Fatalf("no store: %v", err)
	}
	reg := prometheus.NewRegistry()
	_, err = thumbnailer.New(thumbnailer.Config{Registerer: reg}, n.JS, local)
	testutil.Must(t, err)
	if _, err := thumbnailer.New(thumbnailer.Config{Registerer: reg}, n.JS, local); err == nil {
		t.Fatal("registering the metrics twice succeeded")
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	testutil.Must(t, err)
	return b
}
