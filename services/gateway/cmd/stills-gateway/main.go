// Command stills-gateway serves the thumbnail HTTP API from the THUMBS
// stream and the blob store. See services/gateway/README.md.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/cli"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamstore"
	"github.com/stills-video/stills/services/gateway"
)

func main() {
	os.Exit(cli.Main("stills-gateway", os.Args[1:], os.Stderr, run))
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	nc, js, err := cli.Bus(ctx, cfg, "stills-gateway", log)
	if err != nil {
		return err
	}
	defer nc.Drain()
	store, err := blob.Open(ctx, cfg.Storage)
	if err != nil {
		return err
	}
	// The stream settings live in NATS KV, seeded from the file (streams
	// the KV already holds keep what the admin API made of them).
	streams, err := streamstore.OpenSeeded(ctx, js, streamstore.Options{}, cfg.Streams)
	if err != nil {
		return err
	}
	svc, err := gateway.New(gateway.Config{
		Listen:      cfg.HTTP.Listen,
		DataDir:     cfg.DataDir,
		Streams:     cfg.Streams,
		StreamStore: streams,
		AdminKey:    cfg.HTTP.AdminKey,
		Auth:        cfg.Auth,
		Log:         log,
		Registerer:  prometheus.DefaultRegisterer,
		Gatherer:    prometheus.DefaultGatherer,
	}, js, store)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
