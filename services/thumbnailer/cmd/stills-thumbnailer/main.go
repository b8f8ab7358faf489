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
	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/cli"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/services/thumbnailer"
)

func main() {
	os.Exit(cli.Main("stills-thumbnailer", os.Args[1:], os.Stderr, run))
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	nc, err := bus.Connect(cfg.NATS.URL, "stills-thumbnailer", log)
	if err != nil {
		return err
	}
	defer nc.Drain()
	js, err := bus.JetStream(nc)
	if err != nil {
		return err
	}
	if err := bus.EnsureStreams(ctx, js, bus.Options{
		MaxMsgSize: int32(cfg.NATS.MaxPayload), ThumbsMaxAge: cfg.MaxRetention(),
	}); err != nil {
		return err
	}
	store, err := blob.Open(ctx, cfg.Storage)
	if err != nil {
		return err
	}
	skip := true
	if cfg.Thumbnailer.SkipLoopFilter != nil {
		skip = *cfg.Thumbnailer.SkipLoopFilter
	}
	svc, err := thumbnailer.New(thumbnailer.Config{
		Workers:        cfg.Thumbnailer.Workers,
		SkipLoopFilter: skip,
		Log:            log,
		Registerer:     prometheus.DefaultRegisterer,
	}, js, store)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
