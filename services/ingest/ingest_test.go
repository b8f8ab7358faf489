package ingest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/testutil"
	"github.com/stills-video/stills/services/ingest"
)

func TestFakeStreamPublishes(t *testing.T) {
	h := startIngest(t, ingest.Config{}, stream("demo/fake", "fake://demo", time.Second))
	evs := h.waitEvents(t, "demo/fake", 3, 10*time.Second)
	checkEvents(t, evs, 640, 360, time.Second, 5*time.Millisecond)
	if evs[0].Sequence != 1 {
		t.Errorf("first sequence %d", evs[0].Sequence)
	}
	st := h.waitStatus(t, "demo/fake", ingest.StatusOnline, 5*time.Second)
	if st.SegmentsPublished < 3 || st.LastKeyframeAt.IsZero() || st.Errors != 0 || st.URL != "fake://demo" {
		t.Errorf("status %+v", st)
	}
	if err := promtest.GatherAndCompare(h.reg, strings.NewReader(`
# HELP stills_ingest_stream_status 1 for the stream's current status, 0 for the others.
# TYPE stills_ingest_stream_status gauge
stills_ingest_stream_status{status="error",stream="demo/fake"} 0
stills_ingest_stream_status{status="offline",stream="demo/fake"} 0
stills_ingest_stream_status{status="online",stream="demo/fake"} 1
stills_ingest_stream_status{status="starting",stream="demo/fake"} 0
`), "stills_ingest_stream_status"); err != nil {
		t.Error(err)
	}
	if n, _ := promtest.GatherAndCount(h.reg, "stills_ingest_segments_published_total"); n != 1 {
		t.Errorf("segments_published series: %d", n)
	}
}

func TestSetStreams(t *testing.T) {
	h := startIngest(t, ingest.Config{}, stream("a", "fake://a", time.Second))
	h.waitEvents(t, "a", 1, 5*time.Second)

	// Add b, change a's segment duration.
	testutil.Must(t, h.svc.SetStreams([]config.Stream{stream("a", "fake://a", 2*time.Second), stream("b", "fake://b", time.Second)}))
	h.waitEvents(t, "b", 2, 5*time.Second)
	st := h.svc.Status()
	if len(st) != 2 || st[0].Name != "a" || st[1].Name != "b" {
		t.Fatalf("status %+v", st)
	}

	// Remove a: it goes from the status and stops publishing.
	testutil.Must(t, h.svc.SetStreams([]config.Stream{stream("b", "fake://b", time.Second)}))
	st = h.svc.Status()
	if len(st) != 1 || st[0].Name != "b" {
		t.Fatalf("status after removal %+v", st)
	}
	before := len(h.events(t, "a"))
	h.waitEvents(t, "b", len(h.events(t, "b"))+2, 5*time.Second) // two more seconds pass
	if after := len(h.events(t, "a")); after != before {
		t.Errorf("removed stream published %d more events", after-before)
	}
	if n, _ := promtest.GatherAndCount(h.reg, "stills_ingest_stream_status"); n != 4 {
		t.Errorf("%d status series, want 4 (b only)", n)
	}

	// Invalid lists change nothing.
	for _, bad := range [][]config.Stream{
		{stream("b", "http://x", time.Second)},
		{stream("../x", "fake://x", time.Second)},
		{stream("b", "fake://b", time.Second), stream("b", "fake://c", time.Second)},
		{{Name: "b", URL: "rtsp://cam/x", RTSPTransport: "quic"}},
	} {
		if err := h.svc.SetStreams(bad); !errors.Is(err, ingest.ErrInvalidStream) {
			t.Errorf("SetStreams(%v): %v, want ErrInvalidStream", bad, err)
		}
	}
	if st := h.svc.Status(); len(st) != 1 || st[0].Name != "b" {
		t.Fatalf("status after invalid lists %+v", st)
	}
}

func TestRunTwice(t *testing.T) {
	h := startIngest(t, ingest.Config{}, stream("x", "fake://x", time.Second))
	h.waitStatus(t, "x", ingest.StatusOnline, 5*time.Second) // the first Run is running
	if err := h.svc.Run(testutil.Context(t)); !errors.Is(err, ingest.ErrRunTwice) {
		t.Fatalf("second Run: %v, want ErrRunTwice", err)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := ingest.New(ingest.Config{}, nil); err == nil {
		t.Error("New with a nil JetStream succeeded")
	}
	n := testutil.StartNATS(t)
	if _, err := ingest.New(ingest.Config{Streams: []config.Stream{stream("x", "bogus://", time.Second)}}, n.JS); !errors.Is(err, ingest.ErrInvalidStream) {
		t.Errorf("New with an invalid stream: %v", err)
	}
	svc, err := ingest.New(ingest.Config{Streams: []config.Stream{stream("x", "fake://x", time.Second)}}, n.JS)
	testutil.Must(t, err)
	if st := svc.Status(); len(st) != 1 || st[0].Status != ingest.StatusOffline {
		t.Errorf("status before Run: %+v", st)
	}
}

// A file source that is missing fails and is retried with back-off; once
// the file appears the stream comes online.
func TestFileRetry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "late.h264")
	h := startIngest(t, ingest.Config{RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond},
		stream("late", "file://"+path, time.Second))
	testutil.Eventually(t, 5*time.Second, func() error {
		if st := h.status("late"); st.Errors < 3 || !strings.Contains(st.LastError, "no such file") {
			return testutil.Errorf("status %+v, want several errors", st)
		}
		return nil
	})
	if n, _ := promtest.GatherAndCount(h.reg, "stills_ingest_reconnects_total"); n != 1 {
		t.Errorf("reconnects series: %d", n)
	}
	clip := filepath.Join(t.TempDir(), "clip.h264")
	testutil.Ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "2",
		"-c:v", "libx264", "-bf", "0", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-f", "h264", clip)
	data, err := os.ReadFile(clip)
	testutil.Must(t, err)
	testutil.Must(t, os.WriteFile(path, data, 0o644))
	evs := h.waitEvents(t, "late", 2, 5*time.Second)
	checkEvents(t, evs, 320, 240, time.Second, 5*time.Millisecond)
	if st := h.waitStatus(t, "late", ingest.StatusOnline, time.Second); st.LastError != "" {
		t.Errorf("online with an error: %+v", st)
	}
}

// A keyframe over the event limit is refused, counted and visible in the
// status; the stream keeps running.
func TestTooLargeRefused(t *testing.T) {
	h := startIngest(t, ingest.Config{MaxEventBytes: 1000}, stream("big", "fake://big", time.Second))
	testutil.Eventually(t, 5*time.Second, func() error {
		st := h.status("big")
		if st.Errors < 2 || !strings.Contains(st.LastError, "larger than the maximum") {
			return testutil.Errorf("status %+v", st)
		}
		return nil
	})
	if len(h.events(t, "big")) != 0 {
		t.Error("an event over the limit was published")
	}
	if v := metricValue(t, h.reg, "stills_ingest_refused_total", "reason", "too_large"); v < 2 {
		t.Errorf("refused too_large = %v, want >= 2", v)
	}
}

func TestMaxEventBytes(t *testing.T) {
	if got := ingest.MaxEventBytes(8 << 20); got != 8<<20-ingest.EventHeadroom || got <= 0 {
		t.Fatal(got)
	}
}
