// Package ingest pulls every configured stream, cuts it into segments and
// publishes one SegmentStarted event per segment start on JetStream
// (DESIGN §1). It is CGO-free. The stream list can change at runtime
// (SetStreams) and each stream's state is reported by Status.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/services/ingest/internal/publisher"
)

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
	Log         *slog.Logger
	Registerer  prometheus.Registerer
}

// Service is the ingest service.
type Service struct {
	cfg Config
	log *slog.Logger
	pub *publisher.Publisher
	m   *metrics

	setMu   sync.Mutex // serialises SetStreams and Run's start and stop
	mu      sync.Mutex // guards the fields below
	streams []config.Stream
	pulls   map[string]*pull
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
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, log: cfg.Log.With("component", "ingest"), pulls: map[string]*pull{}}
	var err error
	if s.m, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	s.pub, err = publisher.New(publisher.Config{
		MaxEventBytes: cfg.MaxEventBytes,
		OnResult:      s.onResult,
		Log:           s.log,
		Registerer:    cfg.Registerer,
	}, js)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if err := s.SetStreams(cfg.Streams); err != nil {
		return nil, err
	}
	return s, nil
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
	s.ran, s.runCtx = true, ctx
	var start []*pull
	for _, st := range s.streams {
		p := newPull(st)
		s.pulls[st.Name] = p
		start = append(start, p)
	}
	s.mu.Unlock()
	for _, p := range start {
		s.startPull(ctx, p)
	}
	s.setMu.Unlock()
	s.log.Info("ingest running", "streams", len(start))

	pubCtx, pubCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer pubCancel()
	pubDone := make(chan struct{})
	go func() {
		s.pub.Run(pubCtx)
		close(pubDone)
	}()

	<-ctx.Done()
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

	s.pub.Close()
	drain := time.AfterFunc(5*time.Second, pubCancel)
	defer drain.Stop()
	<-pubDone
	s.log.Info("ingest stopped")
	return nil
}

// SetStreams replaces the stream list: new streams start, removed ones
// stop, changed ones restart; unchanged ones keep running. It returns
// ErrInvalidStream (and changes nothing) when one is invalid.
func (s *Service) SetStreams(streams []config.Stream) error {
	want := make([]config.Stream, len(streams))
	seen := map[string]bool{}
	for i, st := range streams {
		st.FillDefaults()
		if err := st.Validate(); err != nil {
			return fmt.Errorf("%w: streams[%d]: %v", ErrInvalidStream, i, err)
		}
		if seen[st.Name] {
			return fmt.Errorf("%w: streams[%d]: duplicate name %q", ErrInvalidStream, i, st.Name)
		}
		seen[st.Name] = true
		want[i] = st
	}

	s.setMu.Lock()
	defer s.setMu.Unlock()
	s.mu.Lock()
	s.streams = want
	var stop, start []*pull
	var removed []string
	for name, p := range s.pulls {
		if !seen[name] {
			stop = append(stop, p)
			removed = append(removed, name)
			delete(s.pulls, name)
		}
	}
	ctx := s.runCtx
	if ctx != nil {
		for _, st := range want {
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
	}
	s.mu.Unlock()

	for _, p := range stop {
		p.stop()
	}
	for _, name := range removed {
		s.m.forget(name)
		s.pub.Forget(name)
		s.log.Info("stream removed", "stream", name)
	}
	for _, p := range start {
		s.startPull(ctx, p)
	}
	return nil
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
