// Package ingest pulls every configured stream, cuts it into segments and
// publishes one SegmentStarted event per segment start on JetStream
// (DESIGN §1). It is CGO-free. The stream list can change at runtime
// (SetStreams) and each stream's state is reported by Status.
//
// With a Config.Store the streams come from the NATS KV bucket (watched;
// Config.Streams only seed it), several ingest processes share them through
// leases (each stream pulled by one at a time) and the holder of a stream
// writes its status to the store.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"reflect"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamstore"
	"github.com/stills-video/stills/services/ingest/internal/publisher"
)

// HeaderIngest is the event header naming the ingest instance that
// published it.
const HeaderIngest = publisher.HeaderIngest

// EventHeadroom is what MaxEventBytes keeps free of the NATS max_payload
// for the subject, headers and protocol.
const EventHeadroom = 16 << 10

// MaxEventBytes is the largest event for a server with max_payload bytes.
func MaxEventBytes(maxPayload int) int { return maxPayload - EventHeadroom }

// Config of the service. Zero values take the defaults.
type Config struct {
	// Streams to pull (validated; defaults filled in).
	Streams []config.Stream
	// MaxEventBytes: larger events are refused and counted; default
	// MaxEventBytes(config.DefaultMaxPayload).
	MaxEventBytes int
	// RetryMin and RetryMax bound the reconnect back-off (1 s, 30 s).
	RetryMin, RetryMax time.Duration
	// ReadTimeout of RTSP sessions (10 s).
	ReadTimeout time.Duration
	// KeyframeTimeout: an online stream without a keyframe for this long
	// reports it in its status error (30 s).
	KeyframeTimeout time.Duration

	// Store, when set, is where the streams come from: Run seeds it with
	// Streams (those it does not hold yet), watches it, pulls the streams
	// it holds a lease on and writes their status.
	Store *streamstore.Store
	// Instance names this ingest in leases, statuses and the Stills-Ingest
	// event header (default host-pid-random).
	Instance string
	// LeaseTTL: a lease not renewed for this long expires and another
	// ingest takes the stream (6 s; renewed every third of it).
	LeaseTTL time.Duration
	// StatusInterval between status writes to the Store, besides the
	// writes on every change (5 s).
	StatusInterval time.Duration

	Log        *slog.Logger
	Registerer prometheus.Registerer
}

// Service is the ingest service.
type Service struct {
	cfg    Config
	log    *slog.Logger
	js     jetstream.JetStream
	pub    *publisher.Publisher
	m      *metrics
	leases *leases // nil without a Store

	statusKick chan struct{} // a status changed: write them now

	setMu   sync.Mutex      // serialises SetStreams and Run's start and stop
	mu      sync.Mutex      // guards the fields below
	streams []config.Stream // configured
	pulls   map[string]*pull
	removed []string        // streams whose status is to be deleted
	runCtx  context.Context // nil unless running
	ran     bool
}

// New returns a service publishing through js (from bus.JetStream).
func New(cfg Config, js jetstream.JetStream) (*Service, error) {
	if js == nil {
		return nil, errors.New("ingest: nil JetStream")
	}
	if cfg.MaxEventBytes == 0 {
		cfg.MaxEventBytes = MaxEventBytes(config.DefaultMaxPayload)
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(30*time.Second, cfg.RetryMin)
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.KeyframeTimeout <= 0 {
		cfg.KeyframeTimeout = 30 * time.Second
	}
	if cfg.Instance == "" {
		cfg.Instance = defaultInstance()
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 6 * time.Second
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		cfg: cfg, js: js, pulls: map[string]*pull{}, statusKick: make(chan struct{}, 1),
		log: cfg.Log.With("component", "ingest", "instance", cfg.Instance),
	}
	var err error
	if s.m, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	s.pub, err = publisher.New(publisher.Config{
		MaxEventBytes: cfg.MaxEventBytes,
		OnResult:      s.onResult,
		Instance:      cfg.Instance,
		Log:           s.log,
		Registerer:    cfg.Registerer,
	}, js)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if cfg.Store != nil { // the store's streams come with Run's watch
		_, err = prepare(cfg.Streams)
	} else {
		err = s.SetStreams(cfg.Streams)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Instance is the name of this ingest in leases, statuses and events.
func (s *Service) Instance() string { return s.cfg.Instance }

func defaultInstance() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "ingest"
	}
	return fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.N(1<<16))
}

// Run pulls every stream until ctx ends, then stops the pulls and waits
// (a few seconds at most) for the last acknowledgements.
func (s *Service) Run(ctx context.Context) error {
	s.setMu.Lock()
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		s.setMu.Unlock()
		return ErrRunTwice
	}
	s.ran = true
	s.mu.Unlock()
	s.setMu.Unlock()
	var bg sync.WaitGroup
	if s.cfg.Store != nil {
		if err := s.startStore(ctx, &bg); err != nil {
			return err
		}
	}
	s.setMu.Lock()
	s.mu.Lock()
	s.runCtx = ctx
	s.mu.Unlock()
	s.reconcile()
	s.setMu.Unlock()
	s.log.Info("ingest running", "streams", len(s.Status()), "store", s.cfg.Store != nil)

	pubCtx, pubCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer pubCancel()
	pubDone := make(chan struct{})
	go func() {
		s.pub.Run(pubCtx)
		close(pubDone)
	}()

	<-ctx.Done()
	bg.Wait() // no more SetStreams from the watch nor lease changes
	s.setMu.Lock()
	s.mu.Lock()
	s.runCtx = nil
	var stop []*pull
	for _, p := range s.pulls {
		stop = append(stop, p)
	}
	s.mu.Unlock()
	for _, p := range stop {
		p.stop()
	}
	s.setMu.Unlock()
	if s.leases != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		s.leases.releaseAll(rctx)
		cancel()
	}

	s.pub.Close()
	drain := time.AfterFunc(5*time.Second, pubCancel)
	defer drain.Stop()
	<-pubDone
	s.log.Info("ingest stopped")
	return nil
}

// SetStreams replaces the stream list: new streams start, removed ones
// stop, changed ones restart; unchanged ones keep running. It returns
// ErrInvalidStream (and changes nothing) when one is invalid. With a Store,
// only the streams this ingest holds a lease on run here.
func (s *Service) SetStreams(streams []config.Stream) error {
	want, err := prepare(streams)
	if err != nil {
		return err
	}
	s.setMu.Lock()
	s.mu.Lock()
	s.streams = want
	s.mu.Unlock()
	s.reconcile()
	s.setMu.Unlock()
	if s.leases != nil {
		s.leases.kick() // claim or release now
	}
	return nil
}

// prepare fills the defaults of a copy of streams and validates it.
func prepare(streams []config.Stream) ([]config.Stream, error) {
	want := make([]config.Stream, len(streams))
	seen := map[string]bool{}
	for i, st := range streams {
		st.FillDefaults()
		if err := st.Validate(); err != nil {
			return nil, fmt.Errorf("%w: streams[%d]: %v", ErrInvalidStream, i, err)
		}
		if seen[st.Name] {
			return nil, fmt.Errorf("%w: streams[%d]: duplicate name %q", ErrInvalidStream, i, st.Name)
		}
		seen[st.Name] = true
		want[i] = st
	}
	return want, nil
}

// reconcile makes the running pulls match the streams this ingest should
// pull now: configured and (with a Store) leased, while Run runs. The
// caller holds setMu.
func (s *Service) reconcile() {
	s.mu.Lock()
	ctx := s.runCtx
	want := map[string]config.Stream{}
	for _, st := range s.streams {
		if ctx != nil && (s.leases == nil || s.leases.holds(st.Name)) {
			want[st.Name] = st
		}
	}
	var stop, start []*pull
	var gone []string
	for name, p := range s.pulls {
		if _, ok := want[name]; !ok {
			stop = append(stop, p)
			gone = append(gone, name)
			delete(s.pulls, name)
		}
	}
	for _, st := range s.streams {
		if _, ok := want[st.Name]; !ok {
			continue
		}
		old := s.pulls[st.Name]
		if old != nil && reflect.DeepEqual(old.stream, st) {
			continue
		}
		if old != nil {
			stop = append(stop, old)
		}
		p := newPull(st)
		s.pulls[st.Name] = p
		start = append(start, p)
	}
	configured := map[string]bool{}
	for _, st := range s.streams {
		configured[st.Name] = true
	}
	for _, name := range gone {
		if !configured[name] && s.cfg.Store != nil {
			s.removed = append(s.removed, name) // its status goes too
		}
	}
	s.mu.Unlock()

	for _, p := range stop {
		p.stop()
	}
	for _, name := range gone {
		s.m.forget(name)
		s.pub.Forget(name)
		s.log.Info("stream stopped", "stream", name, "configured", configured[name])
	}
	for _, p := range start {
		s.startPull(ctx, p)
	}
	if len(gone) > 0 {
		s.kickStatus()
	}
}

// onResult is the publisher's report for one segment.
func (s *Service) onResult(stream string, _ int64, err error) {
	s.mu.Lock()
	p := s.pulls[stream]
	s.mu.Unlock()
	if p != nil {
		p.published(err)
	}
}
