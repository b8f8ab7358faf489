// Command stills-thumbnailer consumes SegmentStarted events from NATS
// JetStream and writes the thumbnails (JPEGs, one-frame MP4) to the blob
// store. See services/thumbnailer/README.md.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/cli"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/services/thumbnailer"
)

func main() {
	os.Exit(cli.Main("stills-thumbnailer", os.Args[1:], os.Stderr, run))
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	nc, js, err := cli.Bus(ctx, cfg, "stills-thumbnailer", log)
	if err != nil {
		return err
	}
	defer nc.Drain()
	store, err := blob.Open(ctx, cfg.Storage)
	if err != nil {
		return err
	}
	if err := cli.ServeMetrics(ctx, cfg.Metrics.Listen, prometheus.DefaultGatherer, log); err != nil {
		return err
	}
	svc, err := thumbnailer.New(thumbnailer.Config{
		Workers:          cfg.Thumbnailer.Workers,
		SkipLoopFilter:   cfg.Thumbnailer.SkipLoopFilterOrDefault(),
		SnapshotTimeout:  cfg.Thumbnailer.SnapshotTimeout.D(),
		SnapshotMaxBytes: cfg.Thumbnailer.SnapshotMaxBytes,
		RenderTimeout:    cfg.Thumbnailer.RenderTimeout.D(),
		Log:              log,
		Registerer:       prometheus.DefaultRegisterer,
	}, js, store)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
