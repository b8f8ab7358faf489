package ingest_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamname"
	"github.com/stills-video/stills/pkg/streamstore"
	"github.com/stills-video/stills/pkg/testutil"
	"github.com/stills-video/stills/services/ingest"
)

// storeHarness is an ingest following a stream store.
type storeHarness struct {
	*harness
	store  *streamstore.Store
	leases jetstream.KeyValue
}

func startStoreIngest(t *testing.T, seed ...config.Stream) *storeHarness {
	t.Helper()
	n := testutil.StartNATS(t)
	js, err := bus.JetStream(n.Conn)
	testutil.Must(t, err)
	ctx := testutil.Context(t)
	testutil.Must(t, bus.EnsureStreams(ctx, js, bus.Options{}))
	store, err := streamstore.Open(ctx, js, streamstore.Options{})
	testutil.Must(t, err)
	// An API change made before this ingest starts: the seed must not undo it.
	testutil.Must(t, store.Put(ctx, stream("api/added", "fake://api", time.Second)))

	h := &harness{js: js, reg: prometheus.NewRegistry()}
	cfg := ingest.Config{Streams: seed, Store: store, Instance: "ingest-a", LeaseTTL: time.Second,
		StatusInterval: 200 * time.Millisecond, Registerer: h.reg}
	if testing.Verbose() {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h.svc, err = ingest.New(cfg, js)
	testutil.Must(t, err)
	runService(t, h.svc)
	leases, err := js.KeyValue(ctx, ingest.BucketLeases)
	if err != nil { // created by Run: wait for it
		testutil.Eventually(t, 5*time.Second, func() error {
			leases, err = js.KeyValue(ctx, ingest.BucketLeases)
			return err
		})
	}
	return &storeHarness{harness: h, store: store, leases: leases}
}

func runService(t *testing.T, svc *ingest.Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
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
}

func (h *storeHarness) storeStatus(t *testing.T, name string) (streamstore.Status, bool) {
	all, err := h.store.Statuses(testutil.Context(t))
	testutil.Must(t, err)
	st, ok := all[name]
	return st, ok
}

// Streams come from the store: the config file seeds it, the API (here
// Put/Delete) adds and removes them without a restart; the holder of
// each lease writes its status; a removed stream's lease, status and
// metrics go.
func TestStoreStreams(t *testing.T) {
	h := startStoreIngest(t, stream("seeded", "fake://seeded", time.Second))
	ctx := testutil.Context(t)
	for _, name := range []string{"seeded", "api/added"} {
		h.waitEvents(t, name, 2, 10*time.Second)
		testutil.Eventually(t, 5*time.Second, func() error {
			st, ok := h.storeStatus(t, name)
			if !ok || st.Status != streamstore.StateOnline || st.Ingest != "ingest-a" || st.Segments < 1 || st.LastKeyframeAt.IsZero() {
				return testutil.Errorf("status %+v (%v)", st, ok)
			}
			return nil
		})
		e, err := h.leases.Get(ctx, streamname.Token(name))
		testutil.Must(t, err)
		if string(e.Value()) != "ingest-a" {
			t.Errorf("lease of %s held by %q", name, e.Value())
		}
	}
	raw, err := h.lastMsg(t, "seeded")
	testutil.Must(t, err)
	if got := raw.Header.Get(ingest.HeaderIngest); got != "ingest-a" {
		t.Errorf("%s header %q", ingest.HeaderIngest, got)
	}

	// Added at runtime.
	testutil.Must(t, h.store.Put(ctx, stream("late", "fake://late", time.Second)))
	h.waitEvents(t, "late", 1, 10*time.Second)

	// Deleted at runtime: events stop; lease, status and metrics go.
	testutil.Must(t, h.store.Delete(ctx, "seeded"))
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, ok := h.storeStatus(t, "seeded"); ok {
			return testutil.Errorf("status of a deleted stream still there")
		}
		if _, err := h.leases.Get(ctx, streamname.Token("seeded")); !errors.Is(err, jetstream.ErrKeyNotFound) {
			return testutil.Errorf("lease of a deleted stream: %v", err)
		}
		return nil
	})
	before := len(h.events(t, "seeded"))
	h.waitEvents(t, "late", len(h.events(t, "late"))+2, 10*time.Second)
	if after := len(h.events(t, "seeded")); after != before {
		t.Errorf("deleted stream published %d more events", after-before)
	}
	if n, _ := promtest.GatherAndCount(h.reg, "stills_ingest_stream_status"); n != 8 {
		t.Errorf("%d status series, want 8 (two streams)", n)
	}
	if v := gaugeValue(t, h.reg, "stills_ingest_leases_held"); v != 2 {
		t.Errorf("leases held = %v, want 2", v)
	}
	for _, st := range h.svc.Status() {
		if st.Name == "seeded" {
			t.Errorf("deleted stream in Status: %+v", st)
		}
	}
}

// A lease taken over by someone else stops the pull at once, and the
// ingest does not take it back while the other one renews it.
func TestLeaseLost(t *testing.T) {
	h := startStoreIngest(t, stream("other", "fake://other", time.Second))
	ctx := testutil.Context(t)
	h.waitStatus(t, "api/added", ingest.StatusOnline, 10*time.Second)
	key := streamname.Token("api/added")
	testutil.Must(t, h.leases.Purge(ctx, key))
	rev, err := h.leases.Create(ctx, key, []byte("intruder"))
	testutil.Must(t, err)
	h.waitStatus(t, "api/added", ingest.StatusOffline, 5*time.Second)
	n := len(h.events(t, "api/added"))
	// Three seconds (three lease TTLs) pass, the intruder renewing.
	target := len(h.events(t, "other")) + 3
	testutil.Eventually(t, 10*time.Second, func() error {
		rev, err = h.leases.Update(ctx, key, []byte("intruder"), rev)
		testutil.Must(t, err)
		if got := len(h.events(t, "other")); got < target {
			return testutil.Errorf("%d events of other, want %d", got, target)
		}
		return nil
	})
	if st := h.status("api/added"); st.Status != ingest.StatusOffline || len(h.events(t, "api/added")) > n+1 {
		t.Errorf("status while another ingest holds the lease: %+v, %d events after %d", st, len(h.events(t, "api/added")), n)
	}
	if v := gaugeValue(t, h.reg, "stills_ingest_leases_held"); v != 1 {
		t.Errorf("leases held = %v, want 1", v)
	}
	// Released by the intruder: taken back.
	testutil.Must(t, h.leases.Delete(ctx, key))
	h.waitStatus(t, "api/added", ingest.StatusOnline, 5*time.Second)
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	testutil.Must(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func (h *harness) lastMsg(t *testing.T, name string) (*jetstream.RawStreamMsg, error) {
	st, err := h.js.Stream(testutil.Context(t), bus.StreamSegments)
	if err != nil {
		return nil, err
	}
	return st.GetLastMsgForSubject(testutil.Context(t), bus.SegmentSubject(name))
}
