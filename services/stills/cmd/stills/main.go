// Command stills is one-box Stills: ingest, thumbnailer and gateway in one
// process with an embedded NATS server and a local blob directory.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/stills-video/stills/pkg/cli"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/services/stills"
)

func main() {
	os.Exit(cli.Main("stills", os.Args[1:], os.Stderr, func(ctx context.Context, cfg config.Config, log *slog.Logger) error {
		return stills.Run(ctx, stills.Options{Config: cfg, Log: log, Ready: func(url string) {
			fmt.Printf("\nStills is running: open %s/\n", url)
			for _, s := range cfg.Streams {
				fmt.Printf("  %s/%s/preview.jpg\n", url, s.Name)
			}
			fmt.Println()
		}})
	}))
}
