package thumbnailer_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer"
	"github.com/stills-video/stills/services/thumbnailer/internal/testmedia"
)

const waitFor = 10 * time.Second

type env struct {
	t     *testing.T
	ctx   context.Context
	nats  *testutil.NATS
	local *blob.Local
	svc   *thumbnailer.Service
	reg   *prometheus.Registry
}

// start runs a service over a fresh embedded NATS and a local blob
// directory; wrap wraps the local store when not nil; consumer nil is the
// production bus.ThumbnailerConsumer.
func start(t *testing.T, wrap func(blob.Store) blob.Store, consumer func(context.Context, jetstream.JetStream) (jetstream.Consumer, error)) *env {
	t.Helper()
	return startWith(t, thumbnailer.Config{}, wrap, consumer)
}

// startWith is start with more of the service's Config (Workers,
// Registerer, Backoff and Consumer are set here).
func startWith(t *testing.T, cfg thumbnailer.Config, wrap func(blob.Store) blob.Store, consumer func(context.Context, jetstream.JetStream) (jetstream.Consumer, error)) *env {
	t.Helper()
	ctx := testutil.Context(t)
	n := testutil.StartNATS(t)
	testutil.Must(t, bus.EnsureStreams(ctx, n.JS, bus.Options{}))
	local, err := blob.NewLocal(t.TempDir())
	testutil.Must(t, err)
	var store blob.Store = local
	if wrap != nil {
		store = wrap(local)
	}
	reg := prometheus.NewRegistry()
	cfg.Workers, cfg.Registerer, cfg.Consumer = 2, reg, consumer
	if cfg.Backoff == nil {
		cfg.Backoff = func(uint64) time.Duration { return 10 * time.Millisecond }
	}
	svc, err := thumbnailer.New(cfg, n.JS, store)
	testutil.Must(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-svc.RenderReady():
	case <-time.After(waitFor):
		t.Fatal("render service not ready")
	}
	return &env{t: t, ctx: ctx, nats: n, local: local, svc: svc, reg: reg}
}

// quickConsumer is bus.ThumbnailerConsumer without the server-side
// BackOff, so the service's short Backoff paces redeliveries.
func quickConsumer(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	c, err := bus.ThumbnailerConsumer(ctx, js)
	if err != nil {
		return nil, err
	}
	cfg := c.CachedInfo().Config
	cfg.BackOff = nil
	cfg.AckWait = 5 * time.Second
	return js.CreateOrUpdateConsumer(ctx, bus.StreamSegments, cfg)
}

func settings(mode stillsv1.ThumbnailMode, sizes ...[2]uint32) *stillsv1.ThumbnailSettings {
	st := &stillsv1.ThumbnailSettings{Mode: mode, Quality: 80}
	for _, s := range sizes {
		st.Sizes = append(st.Sizes, &stillsv1.Size{Width: s[0], Height: s[1]})
	}
	return st
}

func (e *env) publish(stream string, ms int64, au []byte, st *stillsv1.ThumbnailSettings, msgID string) {
	e.t.Helper()
	e.publishCodec(stream, ms, stillsv1.Codec_CODEC_H264, au, st, msgID)
}

func (e *env) publishCodec(stream string, ms int64, codec stillsv1.Codec, au []byte, st *stillsv1.ThumbnailSettings, msgID string) {
	e.t.Helper()
	data, err := proto.Marshal(&stillsv1.SegmentStarted{
		Stream: stream, TimeMs: ms, Codec: codec, Keyframe: au, Settings: st,
	})
	testutil.Must(e.t, err)
	e.publishRaw(bus.SegmentSubject(stream), data, msgID)
}

func (e *env) publishRaw(subject string, data []byte, msgID string) {
	e.t.Helper()
	_, err := e.nats.JS.PublishMsg(e.ctx, &nats.Msg{Subject: subject, Data: data}, jetstream.WithMsgID(msgID))
	testutil.Must(e.t, err)
}

// records returns the decoded messages of a stream (THUMBS or DEAD).
func records[T proto.Message](e *env, stream string, newT func() T) ([]T, []nats.Header) {
	e.t.Helper()
	s, err := e.nats.JS.Stream(e.ctx, stream)
	testutil.Must(e.t, err)
	info, err := s.Info(e.ctx)
	testutil.Must(e.t, err)
	var out []T
	var hdrs []nats.Header
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(e.ctx, seq)
		testutil.Must(e.t, err)
		v := newT()
		testutil.Must(e.t, proto.Unmarshal(m.Data, v))
		out = append(out, v)
		hdrs = append(hdrs, m.Header)
	}
	return out, hdrs
}

func (e *env) waitStats(what string, ok func(thumbnailer.Stats) bool) {
	e.t.Helper()
	testutil.Eventually(e.t, waitFor, func() error {
		if s := e.svc.Stats(); !ok(s) {
			return testutil.Errorf("%s: stats %+v", what, s)
		}
		return nil
	})
}

func TestGoodCorruptGood(t *testing.T) {
	e := start(t, nil, quickConsumer)
	au := testmedia.Keyframe(t, testmedia.Spec{})
	bad := bytes.Clone(au)
	bad = bad[:len(bad)/2]
	const stream = "site-a/cam.1"
	st := settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED, [2]uint32{320, 0}, [2]uint32{160, 160})
	t1, t2, t3 := int64(1_700_000_000_000), int64(1_700_000_003_000), int64(1_700_000_006_000)
	e.publish(stream, t1, au, st, bus.MsgID(stream, t1))
	e.publish(stream, t2, bad, st, bus.MsgID(stream, t2))
	e.publish(stream, t3, au, st, bus.MsgID(stream, t3))
	e.waitStats("2 stored, 1 terminated", func(s thumbnailer.Stats) bool { return s.Stored == 2 && s.Terminated == 1 })

	stored, hdrs := records(e, bus.StreamThumbs, func() *stillsv1.ThumbnailStored { return &stillsv1.ThumbnailStored{} })
	if len(stored) != 2 {
		t.Fatalf("%d ThumbnailStored records, want 2", len(stored))
	}
	for i, rec := range stored {
		if rec.GetStream() != stream || rec.GetSource() != "decode" {
			t.Fatalf("record %d: %v", i, rec)
		}
		if got := hdrs[i].Get(bus.HeaderTimeMs); got == "" {
			t.Fatalf("record %d: no %s header", i, bus.HeaderTimeMs)
		}
		if got, want := hdrs[i].Get(jetstream.MsgIDHeader), bus.MsgID(stream, rec.GetTimeMs()); got != want {
			t.Fatalf("record %d: msg id %q, want %q", i, got, want)
		}
		tm := layout.FromMillis(rec.GetTimeMs())
		want := []struct {
			key  string
			w, h int
		}{
			{layout.JPEG(stream, tm), 320, 180},
			{layout.SizedJPEG(stream, tm, 160, 160), 160, 90},
		}
		if len(rec.GetJpegs()) != len(want) {
			t.Fatalf("record %d: %d jpegs", i, len(rec.GetJpegs()))
		}
		for j, w := range want {
			obj := rec.GetJpegs()[j]
			if obj.GetKey() != w.key || int(obj.GetWidth()) != w.w || int(obj.GetHeight()) != w.h {
				t.Fatalf("jpeg %d: %v, want %s %dx%d", j, obj, w.key, w.w, w.h)
			}
			data, err := e.local.Get(e.ctx, obj.GetKey())
			testutil.Must(t, err)
			img, err := jpeg.Decode(bytes.NewReader(data))
			testutil.Must(t, err)
			if b := img.Bounds(); b.Dx() != w.w || b.Dy() != w.h || int64(len(data)) != obj.GetBytes() {
				t.Fatalf("stored %s is %v, %d bytes; record says %v", obj.GetKey(), b, len(data), obj)
			}
		}
		if rec.GetMp4().GetKey() != layout.MP4(stream, tm) {
			t.Fatalf("mp4 key %q", rec.GetMp4().GetKey())
		}
		if _, err := e.local.Stat(e.ctx, rec.GetMp4().GetKey()); err != nil {
			t.Fatal(err)
		}
	}

	dead, _ := records(e, bus.StreamDead, func() *stillsv1.DeadLetter { return &stillsv1.DeadLetter{} })
	if len(dead) != 1 || dead[0].GetTimeMs() != t2 || dead[0].GetStream() != stream ||
		!strings.HasPrefix(dead[0].GetReason(), "undecodable:") || dead[0].GetStreamSequence() != 2 {
		t.Fatalf("dead letters %v", dead)
	}
	if _, err := e.local.Stat(e.ctx, layout.JPEG(stream, layout.FromMillis(t2))); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("corrupt event left a JPEG: %v", err)
	}
	if n := promtest.ToFloat64(counter(t, e.reg, "stills_thumbnailer_terminated_total", "undecodable")); n != 1 {
		t.Fatalf("terminated_total{undecodable} = %v", n)
	}
	// The work queue is empty: everything was acked or terminated.
	s, err := e.nats.JS.Stream(e.ctx, bus.StreamSegments)
	testutil.Must(t, err)
	testutil.Eventually(t, waitFor, func() error {
		info, err := s.Info(e.ctx)
		if err != nil || info.State.Msgs != 0 {
			return testutil.Errorf("SEGMENTS still holds %v (%v)", info.State.Msgs, err)
		}
		return nil
	})
}

// counter finds one labelled series of a counter vec in reg.
func counter(t *testing.T, reg *prometheus.Registry, name, label string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	testutil.Must(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == label {
				return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x"}, func() float64 { return m.GetCounter().GetValue() })
			}
		}
	}
	t.Fatalf("%s{%s} not found", name, label)
	return nil
}
