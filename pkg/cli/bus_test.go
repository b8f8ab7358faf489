package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/testutil"
)

func TestBus(t *testing.T) {
	n := testutil.StartNATS(t)
	cfg := config.Default()
	ctx := testutil.Context(t)
	log := slog.New(slog.DiscardHandler)

	var ce *config.Error
	if _, _, err := Bus(ctx, cfg, "x", log); !errors.As(err, &ce) || ce.Key != "nats.url" {
		t.Fatalf("empty nats.url: %v", err)
	}
	cfg.NATS.URL = "nats://127.0.0.1:1"
	if _, _, err := Bus(ctx, cfg, "x", log); err == nil {
		t.Fatal("closed port accepted")
	}
	cfg.NATS.URL = n.URL
	nc, js, err := Bus(ctx, cfg, "x", log)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for _, s := range []string{bus.StreamSegments, bus.StreamThumbs, bus.StreamDead} {
		if _, err := js.Stream(ctx, s); err != nil {
			t.Fatalf("stream %s: %v", s, err)
		}
	}
}

func TestServeMetrics(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := ServeMetrics(ctx, "", nil, log); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "stills_test_total", Help: "t"})
	reg.MustRegister(c)
	c.Inc()
	addr := testutil.FreePortAddr(t)
	if err := ServeMetrics(ctx, addr, reg, log); err != nil {
		t.Fatal(err)
	}
	var ce *config.Error
	if err := ServeMetrics(ctx, addr, reg, log); !errors.As(err, &ce) || ce.Key != "metrics.listen" {
		t.Fatalf("second bind on %s: %v", addr, err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "stills_test_total 1") {
		t.Fatalf("metrics: %s", body)
	}
	cancel()
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
			return errors.New("still serving after cancel")
		}
		return nil
	})
}
