// Package cli is the shared start-up of every Stills binary: --config,
// config.Load (file, then STILLS_* env, then Validate), the logger, the
// effective configuration logged with secrets masked, and a context that
// ends on SIGINT/SIGTERM. A config error is printed and exits 2 before
// anything starts.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/stills-video/stills/pkg/config"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitConfig = 2
)

// RunFunc is a binary's body.
type RunFunc func(ctx context.Context, cfg config.Config, log *slog.Logger) error

// Main parses args, loads the configuration and calls run; it returns the
// process exit code. stderr receives usage and config errors.
func Main(name string, args []string, stderr io.Writer, run RunFunc) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML); STILLS_* environment variables override it")
	if err := fs.Parse(args); err != nil {
		return ExitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return ExitConfig
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitConfig
	}
	log := cfg.Log.Logger(stderr).With("service", name)
	m := cfg.Masked()
	log.Info("starting", "config", *path, "data_dir", m.DataDir, "http", m.HTTP.Listen,
		"nats", m.NATS.URL, "s3", m.Storage.S3 != nil, "streams", len(m.Streams))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("stopped", "err", err)
		return ExitFailed
	}
	log.Info("stopped")
	return ExitOK
}
