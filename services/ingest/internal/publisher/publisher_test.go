package publisher

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/ingest/internal/segmenter"
)

var (
	sps = []byte{0x67, 0x64, 0x00, 0x1e}
	pps = []byte{0x68, 0xef}
	idr = []byte{0x65, 0x88, 0x84, 0x00}
)

func segment(ms int64, keyBytes int) segmenter.Segment {
	return segmenter.Segment{
		Time: time.UnixMilli(ms).UTC(), Sequence: 7, Codec: stillsv1.Codec_CODEC_H264,
		Width: 640, Height: 360, SarNum: 1, SarDen: 1,
		ParamSets: [][]byte{sps, pps},
		Keyframe:  [][]byte{sps, pps, append(idr, make([]byte, keyBytes)...)},
	}
}

func testStream() config.Stream {
	s := config.Stream{Name: "site/cam-1", URL: "fake://x",
		Thumbnails: config.Thumbnails{Sizes: []config.Size{{Width: 320, Height: 180}}, Quality: 70}}
	s.FillDefaults()
	return s
}

// results records OnResult calls.
type results struct {
	mu   sync.Mutex
	errs []error
}

func (r *results) on(_ string, _ int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *results) wait(t *testing.T, n int) []error {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.errs) < n {
			return testutil.Errorf("%d results, want %d", len(r.errs), n)
		}
		return nil
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

type env struct {
	js  jetstream.JetStream
	pub *Publisher
	res *results
	reg *prometheus.Registry
}

func start(t *testing.T, ensure bool, cfg Config) *env {
	t.Helper()
	n := testutil.StartNATS(t)
	js, err := bus.JetStream(n.Conn)
	testutil.Must(t, err)
	ctx := testutil.Context(t)
	if ensure {
		testutil.Must(t, bus.EnsureStreams(ctx, js, bus.Options{}))
	}
	e := &env{js: js, res: &results{}, reg: prometheus.NewRegistry()}
	if cfg.MaxEventBytes == 0 {
		cfg.MaxEventBytes = 1 << 20
	}
	cfg.OnResult, cfg.Registerer = e.res.on, e.reg
	e.pub, err = New(cfg, js)
	testutil.Must(t, err)
	done := make(chan struct{})
	go func() { e.pub.Run(ctx); close(done) }()
	t.Cleanup(func() { e.pub.Close(); <-done })
	return e
}

func segmentsMsgs(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	st, err := js.Stream(testutil.Context(t), bus.StreamSegments)
	testutil.Must(t, err)
	info, err := st.Info(testutil.Context(t))
	testutil.Must(t, err)
	return info.State.Msgs
}

func TestPublishLandsOnSegments(t *testing.T) {
	e := start(t, true, Config{Instance: "ingest-7"})
	ctx := testutil.Context(t)
	stream := testStream()
	const ms = 1767323045123
	testutil.Must(t, e.pub.Publish(ctx, stream, segment(ms, 100)))
	if errs := e.res.wait(t, 1); errs[0] != nil {
		t.Fatal(errs[0])
	}

	st, err := e.js.Stream(ctx, bus.StreamSegments)
	testutil.Must(t, err)
	raw, err := st.GetLastMsgForSubject(ctx, bus.SegmentSubject(stream.Name))
	testutil.Must(t, err)
	if got := raw.Header.Get(bus.HeaderTimeMs); got != "1767323045123" {
		t.Errorf("time header %q", got)
	}
	if got := raw.Header.Get(HeaderIngest); got != "ingest-7" {
		t.Errorf("ingest header %q", got)
	}
	if got := raw.Header.Get(jetstream.MsgIDHeader); got != bus.MsgID(stream.Name, ms) {
		t.Errorf("msg id %q", got)
	}
	var ev stillsv1.SegmentStarted
	testutil.Must(t, proto.Unmarshal(raw.Data, &ev))
	wantKey := append([]byte{0, 0, 0, 1}, sps...)
	wantKey = append(append(wantKey, 0, 0, 0, 1), pps...)
	wantKey = append(append(wantKey, 0, 0, 0, 1), idr...)
	switch {
	case ev.Stream != stream.Name, ev.TimeMs != ms, ev.Sequence != 7, ev.Codec != stillsv1.Codec_CODEC_H264:
		t.Errorf("header fields: %v", &ev)
	case ev.Width != 640 || ev.Height != 360 || ev.SarNum != 1 || ev.SarDen != 1:
		t.Errorf("picture fields: %v", &ev)
	case len(ev.ParameterSets) != 2 || !bytes.Equal(ev.ParameterSets[0], sps) || !bytes.Equal(ev.ParameterSets[1], pps):
		t.Errorf("parameter sets %x", ev.ParameterSets)
	case !bytes.HasPrefix(ev.Keyframe, wantKey) || len(ev.Keyframe) != len(wantKey)+100:
		t.Errorf("keyframe %x", ev.Keyframe)
	case ev.Settings.GetQuality() != 70 || len(ev.Settings.GetSizes()) != 1 || ev.Settings.Sizes[0].Width != 320:
		t.Errorf("settings %v", ev.Settings)
	}
	if n := promtest.ToFloat64(e.pub.m.published.WithLabelValues(stream.Name)); n != 1 {
		t.Errorf("published counter %v", n)
	}
}

func TestPublishDedup(t *testing.T) {
	e := start(t, true, Config{})
	ctx := testutil.Context(t)
	stream := testStream()
	testutil.Must(t, e.pub.Publish(ctx, stream, segment(1000, 10)))
	testutil.Must(t, e.pub.Publish(ctx, stream, segment(1000, 10)))
	testutil.Must(t, e.pub.Publish(ctx, stream, segment(2000, 10)))
	for _, err := range e.res.wait(t, 3) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := segmentsMsgs(t, e.js); n != 2 {
		t.Fatalf("%d messages on SEGMENTS, want 2 (one deduplicated)", n)
	}
}

func TestPublishTooLarge(t *testing.T) {
	e := start(t, true, Config{MaxEventBytes: 4096})
	ctx := testutil.Context(t)
	err := e.pub.Publish(ctx, testStream(), segment(1000, 5000))
	if !errors.Is(err, bus.ErrTooLarge) {
		t.Fatalf("err %v, want bus.ErrTooLarge", err)
	}
	if n := promtest.ToFloat64(e.pub.m.refused.WithLabelValues("too_large")); n != 1 {
		t.Errorf("refused counter %v, want 1", n)
	}
	// A small one still goes through; nothing of the big one landed.
	testutil.Must(t, e.pub.Publish(ctx, testStream(), segment(2000, 10)))
	e.res.wait(t, 1)
	if n := segmentsMsgs(t, e.js); n != 1 {
		t.Fatalf("%d messages on SEGMENTS, want 1", n)
	}
	if n, err := promtest.GatherAndCount(e.reg, "stills_ingest_refused_total"); err != nil || n != 1 {
		t.Errorf("refused metric not registered: %d %v", n, err)
	}
}

func TestPublishFailsAfterRetries(t *testing.T) {
	// No SEGMENTS stream: every publish is answered "no responders".
	e := start(t, false, Config{Retries: 2, RetryWait: time.Millisecond, AckWait: time.Second})
	stream := testStream()
	testutil.Must(t, e.pub.Publish(testutil.Context(t), stream, segment(1000, 10)))
	errs := e.res.wait(t, 1)
	if errs[0] == nil {
		t.Fatal("publish without a stream succeeded")
	}
	if n := promtest.ToFloat64(e.pub.m.errors.WithLabelValues(stream.Name)); n != 1 {
		t.Errorf("error counter %v, want 1", n)
	}
	if n := promtest.ToFloat64(e.pub.m.retries.WithLabelValues(stream.Name)); n != 2 {
		t.Errorf("retry counter %v, want 2", n)
	}
}

func TestPublishAfterClose(t *testing.T) {
	e := start(t, true, Config{})
	e.pub.Close()
	if err := e.pub.Publish(testutil.Context(t), testStream(), segment(1000, 10)); !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v, want ErrClosed", err)
	}
}

func TestRunCancelledReportsPending(t *testing.T) {
	n := testutil.StartNATS(t)
	js, err := bus.JetStream(n.Conn)
	testutil.Must(t, err)
	res := &results{}
	pub, err := New(Config{MaxEventBytes: 1 << 20, OnResult: res.on}, js)
	testutil.Must(t, err)
	testutil.Must(t, pub.Publish(testutil.Context(t), testStream(), segment(1000, 10)))
	pub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pub.Run(ctx) // returns: intake closed and the pending one reported
	if errs := res.wait(t, 1); !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", errs[0])
	}
}

func TestNewRejectsZeroMax(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil {
		t.Fatal("New without MaxEventBytes succeeded")
	}
}

func TestMetricsTwiceOnOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := New(Config{MaxEventBytes: 1, Registerer: reg}, nil)
	testutil.Must(t, err)
	b, err := New(Config{MaxEventBytes: 1, Registerer: reg}, nil)
	testutil.Must(t, err)
	if a.m.refused != b.m.refused {
		t.Fatal("second publisher did not share the registered collectors")
	}
}
