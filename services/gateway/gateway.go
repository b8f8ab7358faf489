// Package gateway is the Stills HTTP gateway (DESIGN §1.3, §4): it follows
// the THUMBS stream into a local index (internal/index), keeps the newest
// JPEG/MP4 of every stream in memory (internal/latest) and serves the
// Flussonic-compatible thumbnail API (internal/api).
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamstore"
	"github.com/stills-video/stills/services/gateway/internal/admin"
	"github.com/stills-video/stills/services/gateway/internal/api"
	"github.com/stills-video/stills/services/gateway/internal/index"
	"github.com/stills-video/stills/services/gateway/internal/latest"
	"github.com/stills-video/stills/services/gateway/internal/live"
	"github.com/stills-video/stills/services/gateway/internal/retention"
)

// Config configures the gateway.
type Config struct {
	// Listen is the HTTP address ("127.0.0.1:0" picks a port; see Addr).
	Listen string
	// DataDir holds the index file, DataDir/index.db.
	DataDir string
	// Streams are the configured streams (settings per stream).
	Streams []config.Stream
	// StreamStore, when set, is the source of the stream settings instead
	// of Streams: Run follows it, so a change (enabled: false, ondemand)
	// takes effect without a restart, and the admin API is served at
	// /api/streams. nil = Streams, fixed, and no admin API.
	StreamStore *streamstore.Store
	// AdminKey protects the admin API ("Authorization: Bearer <key>");
	// empty = open (a warning is logged when not listening on loopback).
	AdminKey string
	// Auth configures play tokens on every thumbnail URL (DESIGN §6).
	Auth config.Auth
	// Janitor enforces dvr.retention.
	Janitor JanitorConfig
	Log     *slog.Logger
	// AccessLog gets one line per HTTP request; nil = Log.
	AccessLog *slog.Logger
	// Registerer and Gatherer for the metrics; nil = a private registry
	// served on /metrics.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
}

// Service is a running gateway.
type Service struct {
	cfg      Config
	log      *slog.Logger
	db       *index.DB
	store    blob.Store
	cache    *latest.Cache
	follower *index.Follower
	streams  *registry
	handler  http.Handler
	warm     chan string
	hub      *live.Hub
	janitor  *retention.Janitor

	mu        sync.Mutex
	addr      string
	listening chan struct{} // closed once addr is set
	closeOnce sync.Once
}

// New opens the index and builds the HTTP handler; Run starts following
// THUMBS and serving.
func New(cfg Config, js jetstream.JetStream, store blob.Store) (*Service, error) {
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("gateway: data dir is empty")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Registerer == nil {
		reg := prometheus.NewRegistry()
		cfg.Registerer, cfg.Gatherer = reg, reg
	}
	if cfg.Gatherer == nil {
		g, ok := cfg.Registerer.(prometheus.Gatherer)
		if !ok {
			g = prometheus.DefaultGatherer
		}
		cfg.Gatherer = g
	}
	streams, err := newRegistry(cfg.Streams)
	if err != nil {
		return nil, err
	}
	db, err := index.Open(filepath.Join(cfg.DataDir, "index.db"))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	checker, err := newChecker(cfg.Auth, cfg.Log)
	if err != nil {
		return nil, err
	}
	s := &Service{
		hub:     live.NewHub(),
		cfg:     cfg,
		log:     cfg.Log.With("component", "gateway"),
		db:      db,
		store:   store,
		cache:   latest.New(store),
		streams: streams,
		warm:    make(chan string, 1024),

		listening: make(chan struct{}),
	}
	s.follower = index.NewFollower(db, js, index.FollowerOptions{Log: cfg.Log, OnApplied: s.onApplied})
	s.janitor = s.newJanitor(js)
	if err := errors.Join(registerIndexMetrics(cfg.Registerer, s), registerOpsMetrics(cfg.Registerer, s)); err != nil {
		db.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.handler, err = api.New(api.Deps{
		Index:      db,
		Store:      store,
		Cache:      s.cache,
		Stream:     streams.get,
		Ready:      s.follower.CaughtUp,
		Auth:       checker,
		Render:     newRenderer(js),
		Hub:        s.hub,
		Log:        cfg.Log,
		AccessLog:  cfg.AccessLog,
		Registerer: cfg.Registerer,
		Gatherer:   cfg.Gatherer,
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if cfg.StreamStore != nil {
		adm, err := admin.New(admin.Deps{
			Store: cfg.StreamStore,
			Key:   cfg.AdminKey,
			Count: db.Count,
			Seen:  streams.seenAt,
			Log:   cfg.Log,
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("gateway: %w", err)
		}
		root := chi.NewRouter()
		root.Mount("/api/streams", adm)
		root.Mount("/", s.handler)
		s.handler = root
	}
	return s, nil
}

// Handler is the HTTP API.
func (s *Service) Handler() http.Handler { return s.handler }

// LastApplied is the highest THUMBS sequence in the index.
func (s *Service) LastApplied() uint64 { return s.db.LastApplied() }

// Received counts THUMBS messages delivered since Run started (a restart
// resumes after LastApplied, so it does not count old ones again).
func (s *Service) Received() uint64 { return s.follower.Received() }

// Ready reports whether the index has caught up with THUMBS.
func (s *Service) Ready() bool { return s.follower.CaughtUp() }

// Addr is the HTTP listen address once Run listens, else "".
func (s *Service) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// WaitListening returns the HTTP address once Run has bound it, or the
// context's error.
func (s *Service) WaitListening(ctx context.Context) (string, error) {
	select {
	case <-s.listening:
		return s.Addr(), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Close releases the index. Run closes it when it returns.
func (s *Service) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.db.Close() })
	return err
}

// Run follows THUMBS and serves HTTP on Listen until ctx ends, then shuts
// the server down gracefully and closes the index.
func (s *Service) Run(ctx context.Context) error {
	defer s.Close()
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("gateway: listen: %w", err)
	}
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	close(s.listening)
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("listening", "addr", s.addr, "applied_seq", s.db.LastApplied())
	if s.cfg.StreamStore != nil && s.cfg.AdminKey == "" {
		adminOpenWarning(s.log, s.addr)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { s.follower.Run(ctx) })
	wg.Go(func() { s.warmLoop(ctx) })
	if !s.cfg.Janitor.Off {
		wg.Go(func() { s.janitor.Run(ctx) })
	}
	srv.RegisterOnShutdown(s.hub.Close) // ends the preview.mjpeg responses
	if s.cfg.StreamStore != nil {
		wg.Go(func() { s.watchStreams(ctx) })
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("gateway: serve: %w", err)
	}
	cancel()
	shutCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if serr := srv.Shutdown(shutCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		s.log.Warn("shutdown", "err", serr)
	}
	wg.Wait()
	return err
}

// onApplied warms the latest cache of streams that got a new newest entry
// live (not while catching up: those are fetched on first request).
func (s *Service) onApplied(res index.Result, live bool) {
	if !live {
		return
	}
	for _, name := range res.Latest {
		select {
		case s.warm <- name:
		default: // the next request fetches it
		}
	}
}

func (s *Service) warmLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case name := <-s.warm:
			s.warmStream(ctx, name)
		}
	}
}

func (s *Service) warmStream(ctx context.Context, name string) {
	e, ok, err := s.db.Latest(name)
	if err != nil || !ok {
		return
	}
	if o, has := e.JPEG(); has {
		b, err := s.cache.Get(ctx, name, latest.JPEG, o.Key, e.TimeMs)
		if err != nil {
			s.log.Warn("warm latest JPEG", "stream", name, "key", o.Key, "err", err)
		} else if s.hub.Viewers(name) > 0 {
			s.hub.Publish(name, live.NewFrame(e.TimeMs, b.Data))
		}
	}
	if e.HasMP4() {
		if _, err := s.cache.Get(ctx, name, latest.MP4, e.MP4.Key, e.TimeMs); err != nil {
			s.log.Warn("warm latest MP4", "stream", name, "key", e.MP4.Key, "err", err)
		}
	}
}
