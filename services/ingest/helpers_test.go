package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/ingest"
)

type harness struct {
	js  jetstream.JetStream
	svc *ingest.Service
	reg *prometheus.Registry
}

// startIngest runs a service on a fresh embedded NATS until the test ends.
func startIngest(t *testing.T, cfg ingest.Config, streams ...config.Stream) *harness {
	t.Helper()
	n := testutil.StartNATS(t)
	js, err := bus.JetStream(n.Conn)
	testutil.Must(t, err)
	testutil.Must(t, bus.EnsureStreams(testutil.Context(t), js, bus.Options{}))
	h := &harness{js: js, reg: prometheus.NewRegistry()}
	cfg.Streams, cfg.Registerer = streams, h.reg
	if cfg.Log == nil && testing.Verbose() {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h.svc, err = ingest.New(cfg, js)
	testutil.Must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return h
}

func stream(name, url string, seg time.Duration) config.Stream {
	return config.Stream{Name: name, URL: url, SegmentDuration: config.Duration(seg)}
}

// events returns the SegmentStarted events of one stream on SEGMENTS.
func (h *harness) events(t *testing.T, name string) []*stillsv1.SegmentStarted {
	t.Helper()
	ctx := testutil.Context(t)
	st, err := h.js.Stream(ctx, bus.StreamSegments)
	testutil.Must(t, err)
	info, err := st.Info(ctx)
	testutil.Must(t, err)
	var out []*stillsv1.SegmentStarted
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		testutil.Must(t, err)
		if m.Subject != bus.SegmentSubject(name) {
			continue
		}
		var ev stillsv1.SegmentStarted
		testutil.Must(t, proto.Unmarshal(m.Data, &ev))
		out = append(out, &ev)
	}
	return out
}

// waitEvents waits for at least n events of a stream.
func (h *harness) waitEvents(t *testing.T, name string, n int, timeout time.Duration) []*stillsv1.SegmentStarted {
	t.Helper()
	var evs []*stillsv1.SegmentStarted
	testutil.Eventually(t, timeout, func() error {
		evs = h.events(t, name)
		if len(evs) < n {
			return testutil.Errorf("%d events for %s, want %d; status %+v", len(evs), name, n, h.status(name))
		}
		return nil
	})
	return evs
}

func (h *harness) status(name string) ingest.StreamStatus {
	for _, s := range h.svc.Status() {
		if s.Name == name {
			return s
		}
	}
	return ingest.StreamStatus{}
}

func (h *harness) waitStatus(t *testing.T, name, status string, timeout time.Duration) ingest.StreamStatus {
	t.Helper()
	var st ingest.StreamStatus
	testutil.Eventually(t, timeout, func() error {
		if st = h.status(name); st.Status != status {
			return testutil.Errorf("status %+v, want %s", st, status)
		}
		return nil
	})
	return st
}

// checkEvents checks the fields every event of a 640x360 H.264 stream
// with the given segment duration must have.
func checkEvents(t *testing.T, evs []*stillsv1.SegmentStarted, w, h uint32, seg time.Duration, tolerance time.Duration) {
	t.Helper()
	for i, ev := range evs {
		if ev.Codec != stillsv1.Codec_CODEC_H264 || ev.Width != w || ev.Height != h {
			t.Errorf("event %d: codec %v %dx%d, want H264 %dx%d", i, ev.Codec, ev.Width, ev.Height, w, h)
		}
		if !startsWithParamSets(ev.Keyframe) {
			t.Errorf("event %d: keyframe does not start with SPS, PPS: %x", i, ev.Keyframe[:min(16, len(ev.Keyframe))])
		}
		if !hasIDR(ev.Keyframe) {
			t.Errorf("event %d: keyframe without an IDR slice", i)
		}
		if len(ev.ParameterSets) != 2 {
			t.Errorf("event %d: %d parameter sets", i, len(ev.ParameterSets))
		}
		if ev.Settings == nil || ev.Settings.Quality != config.DefaultQuality {
			t.Errorf("event %d: settings %v", i, ev.Settings)
		}
		if i == 0 {
			continue
		}
		d := time.Duration(ev.TimeMs-evs[i-1].TimeMs) * time.Millisecond
		if d < seg-tolerance || d > seg+tolerance {
			t.Errorf("event %d: %v after the previous, want %v ± %v", i, d, seg, tolerance)
		}
		if ev.Sequence <= evs[i-1].Sequence {
			t.Errorf("event %d: sequence %d after %d", i, ev.Sequence, evs[i-1].Sequence)
		}
	}
	if len(evs) > 0 {
		if age := time.Since(time.UnixMilli(evs[0].TimeMs)); age < 0 || age > time.Minute {
			t.Errorf("first event time %v is not a recent wall time", time.UnixMilli(evs[0].TimeMs))
		}
	}
}

// startsWithParamSets: 00 00 00 01 SPS ... 00 00 00 01 PPS.
func startsWithParamSets(au []byte) bool {
	if !bytes.HasPrefix(au, []byte{0, 0, 0, 1}) || len(au) < 5 || au[4]&0x1f != 7 {
		return false
	}
	i := bytes.Index(au[5:], []byte{0, 0, 1})
	return i >= 0 && len(au) > 5+i+3 && au[5+i+3]&0x1f == 8
}

func hasIDR(au []byte) bool {
	for i := 0; i+3 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 && au[i+3]&0x1f == 5 {
			return true
		}
	}
	return false
}

// metricValue is the value of the counter or gauge series name{label=value}.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	testutil.Must(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no series %s{%s=%q}", name, label, value)
	return 0
}
