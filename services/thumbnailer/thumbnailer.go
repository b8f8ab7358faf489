// Package thumbnailer is the Stills thumbnail service (DESIGN §1.2): a
// pool of workers consuming SegmentStarted events from the SEGMENTS work
// queue (durable consumer bus.ConsumerThumbnailer), each with its own
// libav decoder, writing the one-frame MP4 and the JPEGs (decoded, or the
// camera's snapshot) to the blob store and publishing ThumbnailStored on
// THUMBS; and the on-demand render service on bus.SubjectRender.
package thumbnailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/services/thumbnailer/internal/render"
	"github.com/stills-video/stills/services/thumbnailer/internal/snapshot"
	"github.com/stills-video/stills/services/thumbnailer/internal/worker"
)

// Config of the service. The zero value works.
type Config struct {
	// Workers is the number of concurrent decode workers; 0 = runtime.NumCPU().
	Workers int
	// SkipLoopFilter skips the deblocking filter when decoding (faster,
	// invisible at thumbnail sizes).
	SkipLoopFilter bool
	Log            *slog.Logger
	Registerer     prometheus.Registerer
	// Backoff overrides the redelivery delay after a transient failure
	// (the delivered-th attempt failed); nil = bus.ThumbnailerBackoff.
	// Tests make it short.
	Backoff func(delivered uint64) time.Duration
	// Consumer opens the durable pull consumer; nil =
	// bus.ThumbnailerConsumer. The consumer's server-side BackOff paces
	// redeliveries whatever Nak delay is asked for, so tests pass one
	// without BackOff to make Backoff take effect.
	Consumer func(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error)
	// DrainTimeout bounds the event in flight when Run's context ends; it
	// is finished (stored, or nak'ed) rather than abandoned; 0 = 30s.
	DrainTimeout time.Duration
	// ProgressEvery is how often a worker sends InProgress for the event
	// it holds; 0 = a third of the consumer's AckWait.
	ProgressEvery time.Duration
	// SnapshotTimeout and SnapshotMaxBytes bound a camera snapshot fetch;
	// 0 = 3s and 8 MiB.
	SnapshotTimeout  time.Duration
	SnapshotMaxBytes int64
	// RenderTimeout bounds one on-demand render request, waiting for a free
	// renderer included; 0 = 10s. The render service runs Workers
	// renderers of its own.
	RenderTimeout time.Duration
}

// Stats counts what the service did since New.
type Stats = worker.Stats

// Service is the running thumbnailer.
type Service struct {
	cfg     Config
	log     *slog.Logger
	js      jetstream.JetStream
	store   blob.Store
	metrics *worker.Metrics
	snap    *snapshot.Fetcher
	render  *render.Service
}

// New checks the dependencies and registers the metrics.
func New(cfg Config, js jetstream.JetStream, store blob.Store) (*Service, error) {
	if js == nil {
		return nil, ErrNoJetStream
	}
	if store == nil {
		return nil, ErrNoStore
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	log := cfg.Log.With("component", "thumbnailer")
	m, err := worker.NewMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("thumbnailer: metrics: %w", err)
	}
	snap := snapshot.New(snapshot.Config{Timeout: cfg.SnapshotTimeout, MaxBytes: cfg.SnapshotMaxBytes})
	rs := render.New(render.Config{Log: cfg.Log, Workers: cfg.Workers, Timeout: cfg.RenderTimeout, SkipLoopFilter: cfg.SkipLoopFilter}, js, store)
	return &Service{cfg: cfg, log: log, js: js, store: store, metrics: m, snap: snap, render: rs}, nil
}

// RenderReady is closed once the render service answers on
// bus.SubjectRender (Run subscribes shortly after it starts).
func (s *Service) RenderReady() <-chan struct{} { return s.render.Ready() }

// Stats returns the counters so far (stored, terminated, errors, naks).
func (s *Service) Stats() Stats { return s.metrics.Stats() }

// Run consumes events and answers render requests until ctx ends, then
// lets every worker finish the event or request it holds and returns nil.
// It fails early when the consumer cannot be created. Run once.
func (s *Service) Run(ctx context.Context) error {
	open := s.cfg.Consumer
	if open == nil {
		open = bus.ThumbnailerConsumer
	}
	cons, err := open(ctx, s.js)
	if err != nil {
		return err
	}
	maxDeliver := uint64(0) // the worker's default, bus.ThumbnailerConsumer's
	progress := s.cfg.ProgressEvery
	if info := cons.CachedInfo(); info != nil {
		if info.Config.MaxDeliver > 0 {
			maxDeliver = uint64(info.Config.MaxDeliver)
		}
		if progress <= 0 && info.Config.AckWait > 0 {
			progress = info.Config.AckWait / 3
		}
	}
	s.log.Info("started", "workers", s.cfg.Workers, "skip_loop_filter", s.cfg.SkipLoopFilter)
	var wg sync.WaitGroup
	errs := make([]error, s.cfg.Workers+1)
	for i := range s.cfg.Workers {
		wg.Go(func() { errs[i] = s.work(ctx, cons, maxDeliver, progress, i) })
	}
	wg.Go(func() { errs[s.cfg.Workers] = s.render.Serve(ctx) })
	wg.Wait()
	s.log.Info("stopped", "stats", s.Stats())
	if err := errors.Join(errs...); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// work is one worker goroutine: its own decoder, its own pull
// subscription. It decodes the next event while a writer goroutine stores,
// publishes and settles the previous one (at most one waiting), so the
// core stays busy through storage and bus round trips.
func (s *Service) work(ctx context.Context, cons jetstream.Consumer, maxDeliver uint64, progress time.Duration, id int) error {
	log := s.log.With("worker", id)
	w, err := worker.New(worker.Config{
		Log: log, Metrics: s.metrics, SkipLoopFilter: s.cfg.SkipLoopFilter,
		Backoff: s.cfg.Backoff, MaxDeliver: maxDeliver, ProgressEvery: progress, Snapshot: s.snap,
	}, s.js, s.store)
	if err != nil {
		return err
	}
	defer w.Close()
	it, err := cons.Messages(jetstream.PullMaxMessages(1))
	if err != nil {
		return fmt.Errorf("thumbnailer: pull: %w", err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()

	// Finish the events in hand even when ctx ends meanwhile.
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	jobs := make(chan *worker.Job)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for j := range jobs {
			fctx, done := context.WithTimeout(jobCtx, s.cfg.DrainTimeout)
			w.Finish(fctx, j)
			done()
		}
	}()
	defer func() { close(jobs); <-writerDone }()

	for {
		msg, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return nil
		}
		if errors.Is(err, jetstream.ErrConsumerDeleted) {
			return fmt.Errorf("thumbnailer: %w", err)
		}
		if err != nil {
			// Transient (heartbeats missed while reconnecting): the iterator
			// keeps pulling.
			log.Warn("pull", "err", err)
			continue
		}
		pctx, done := context.WithTimeout(jobCtx, s.cfg.DrainTimeout)
		j := w.Prepare(pctx, msg)
		done()
		if j != nil {
			jobs <- j // waits while the writer is busy with the previous one
		}
	}
}
