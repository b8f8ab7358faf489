// Package stills is the one-box composition: the ingest, thumbnailer and
// gateway services in one process, on an embedded NATS server with
// JetStream in data_dir (unless nats.url names a server) and the
// local-directory blob store (unless storage.s3 is set). Same code paths,
// same bus, same API as the separate binaries.
package stills

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/cli"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/natsembed"
	"github.com/stills-video/stills/pkg/streamstore"
	"github.com/stills-video/stills/services/gateway"
	"github.com/stills-video/stills/services/ingest"
	"github.com/stills-video/stills/services/thumbnailer"
)

// Options of a one-box run.
type Options struct {
	Config config.Config
	Log    *slog.Logger
	// Ready, if set, is called once with the gateway's base URL
	// ("http://127.0.0.1:8080") when it accepts requests.
	Ready func(baseURL string)
}

// Run starts everything and blocks until ctx ends or a service fails.
func Run(ctx context.Context, o Options) error {
	cfg, log := o.Config, o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("one-box: data dir: %w", err)
	}

	natsURL := cfg.NATS.URL
	if natsURL == "" {
		srv, err := natsembed.Start(natsembed.Options{
			StoreDir:   filepath.Join(cfg.DataDir, "nats"),
			Listen:     cfg.NATS.Listen,
			MaxPayload: int32(cfg.NATS.MaxPayload),
		})
		if err != nil {
			return fmt.Errorf("one-box: %w", err)
		}
		defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
		natsURL = srv.ClientURL()
		log.Info("embedded nats started", "url", natsURL, "store", filepath.Join(cfg.DataDir, "nats"))
	}
	cfg.NATS.URL = natsURL
	nc, js, err := cli.Bus(ctx, cfg, "stills-onebox", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	store, err := blob.Open(ctx, cfg.Storage)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	thumbs, err := thumbnailer.New(thumbnailer.Config{
		Workers:          cfg.Thumbnailer.Workers, // 0 = one per core
		SkipLoopFilter:   cfg.Thumbnailer.SkipLoopFilterOrDefault(),
		SnapshotTimeout:  cfg.Thumbnailer.SnapshotTimeout.D(),
		SnapshotMaxBytes: cfg.Thumbnailer.SnapshotMaxBytes,
		RenderTimeout:    cfg.Thumbnailer.RenderTimeout.D(),
		Log:              log,
		Registerer:       reg,
	}, js, store)
	if err != nil {
		return err
	}
	// One stream store (NATS KV), seeded from the file before anything
	// reads it; the gateway (settings, admin API) and the ingest follow it.
	streams, err := streamstore.OpenSeeded(ctx, js, streamstore.Options{}, cfg.Streams)
	if err != nil {
		return err
	}
	gw, err := gateway.New(gateway.Config{
		Listen:      cfg.HTTP.Listen,
		DataDir:     filepath.Join(cfg.DataDir, "gateway"),
		Streams:     cfg.Streams,
		StreamStore: streams,
		AdminKey:    cfg.HTTP.AdminKey,
		Auth:        cfg.Auth,
		Log:         log,
		Registerer:  reg,
		Gatherer:    reg,
	}, js, store)
	if err != nil {
		return err
	}
	in, err := ingest.New(ingest.Config{
		Streams:       cfg.Streams,
		MaxEventBytes: ingest.MaxEventBytes(cfg.NATS.MaxPayload),
		Store:         streams,
		Log:           log,
		Registerer:    reg,
	}, js)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for name, run := range map[string]func(context.Context) error{
		"thumbnailer": thumbs.Run,
		"gateway":     gw.Run,
		"ingest":      in.Run,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := run(ctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("one-box: %s: %w", name, err)
				}
				mu.Unlock()
			}
			cancel() // one service down takes the box down; a supervisor restarts it
		}()
	}
	go func() {
		addr, err := gw.WaitListening(ctx)
		if err != nil {
			return
		}
		url := "http://" + addr
		log.Info("Stills is running", "url", url, "streams", len(cfg.Streams))
		if o.Ready != nil {
			o.Ready(url)
		}
	}()
	wg.Wait()
	return firstErr
}
