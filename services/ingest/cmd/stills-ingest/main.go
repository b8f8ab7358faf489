// Command stills-ingest pulls the configured streams and publishes one
// SegmentStarted event per segment on NATS JetStream. See
// services/ingest/README.md.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/cli"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/services/ingest"
)

func main() {
	os.Exit(cli.Main("stills-ingest", os.Args[1:], os.Stderr, run))
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	nc, js, err := cli.Bus(ctx, cfg, "stills-ingest", log)
	if err != nil {
		return err
	}
	defer nc.Drain()
	if err := cli.ServeMetrics(ctx, cfg.Metrics.Listen, prometheus.DefaultGatherer, log); err != nil {
		return err
	}
	svc, err := ingest.New(ingest.Config{
		Streams:       cfg.Streams,
		MaxEventBytes: ingest.MaxEventBytes(cfg.NATS.MaxPayload),
		Log:           log,
		Registerer:    prometheus.DefaultRegisterer,
	}, js)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
