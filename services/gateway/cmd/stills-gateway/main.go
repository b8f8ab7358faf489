// Command stills-gateway serves the thumbnail HTTP API from the THUMBS
// stream and the blob store. See services/gateway/README.md.
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
	"github.com/stills-video/stills/services/gateway"
)

func main() {
	os.Exit(cli.Main("stills-gateway", os.Args[1:], os.Stderr, run))
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	nc, err := bus.Connect(cfg.NATS.URL, "stills-gateway", log)
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
	var store blob.Store
	if cfg.Storage.S3 != nil {
		store, err = blob.NewS3(ctx, *cfg.Storage.S3)
	} else {
		store, err = blob.NewLocal(cfg.Storage.Dir)
	}
	if err != nil {
		return err
	}
	svc, err := gateway.New(gateway.Config{
		Listen: cfg.HTTP.Listen, DataDir: cfg.DataDir, Streams: cfg.Streams, Log: log,
		Registerer: prometheus.DefaultRegisterer, Gatherer: prometheus.DefaultGatherer,
	}, js, store)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
