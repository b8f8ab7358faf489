// Command stills-ingest pulls the streams of the stream store (NATS KV,
// seeded from the config file), sharing them with the other ingest
// processes through leases, and publishes one SegmentStarted event per
// segment on NATS JetStream. See services/ingest/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/cli"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamstore"
	"github.com/stills-video/stills/services/ingest"
)

func main() {
	fs := flag.NewFlagSet("stills-ingest", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (YAML); STILLS_* environment variables override it")
	instance := fs.String("instance", "", "name of this ingest in leases, statuses and events (default host-pid-random)")
	ttl := fs.Duration("lease-ttl", 6*time.Second, "a stream whose ingest has not renewed its lease for this long moves to another")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(cli.ExitConfig)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "stills-ingest: unexpected argument %q\n", fs.Arg(0))
		os.Exit(cli.ExitConfig)
	}
	if *ttl < 300*time.Millisecond {
		fmt.Fprintln(os.Stderr, "stills-ingest: --lease-ttl must be at least 300ms")
		os.Exit(cli.ExitConfig)
	}
	os.Exit(cli.Main("stills-ingest", []string{"--config", *path}, os.Stderr, func(ctx context.Context, cfg config.Config, log *slog.Logger) error {
		return run(ctx, cfg, log, *instance, *ttl)
	}))
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger, instance string, ttl time.Duration) error {
	nc, js, err := cli.Bus(ctx, cfg, "stills-ingest", log)
	if err != nil {
		return err
	}
	defer nc.Drain()
	if err := cli.ServeMetrics(ctx, cfg.Metrics.Listen, prometheus.DefaultGatherer, log); err != nil {
		return err
	}
	store, err := streamstore.Open(ctx, js, streamstore.Options{})
	if err != nil {
		return err
	}
	svc, err := ingest.New(ingest.Config{
		Streams:       cfg.Streams,
		MaxEventBytes: ingest.MaxEventBytes(cfg.NATS.MaxPayload),
		Store:         store,
		Instance:      instance,
		LeaseTTL:      ttl,
		Log:           log,
		Registerer:    prometheus.DefaultRegisterer,
	}, js)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
