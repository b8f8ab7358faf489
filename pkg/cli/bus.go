package cli

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/config"
)

// Bus connects a service binary to cfg.NATS.URL and makes sure the
// streams exist (idempotent: any replica may start first).
func Bus(ctx context.Context, cfg config.Config, name string, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	if cfg.NATS.URL == "" {
		return nil, nil, &config.Error{Key: "nats.url", Reason: "required for " + name + " (only one-box starts an embedded server)"}
	}
	nc, err := bus.Connect(cfg.NATS.URL, name, log)
	if err != nil {
		return nil, nil, err
	}
	js, err := bus.JetStream(nc)
	if err == nil {
		err = bus.EnsureStreams(ctx, js, bus.Options{
			MaxMsgSize:   int32(cfg.NATS.MaxPayload),
			ThumbsMaxAge: cfg.MaxRetention(),
		})
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// ServeMetrics serves /metrics and /healthz on addr until ctx ends; "" is
// a no-op. It returns once the listener is bound.
func ServeMetrics(ctx context.Context, addr string, g prometheus.Gatherer, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return &config.Error{Key: "metrics.listen", Reason: err.Error()}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", l.Addr().String())
	return nil
}
