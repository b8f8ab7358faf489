package ingest

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/services/ingest/internal/promreg"
)

// Stream states, as in GET /api/streams (DESIGN §6).
const (
	StatusStarting = "starting"
	StatusOnline   = "online"
	StatusOffline  = "offline"
	StatusError    = "error"
)

var statuses = []string{StatusStarting, StatusOnline, StatusOffline, StatusError}

type metrics struct {
	reconnects   *prometheus.CounterVec
	sourceErrors *prometheus.CounterVec
	status       *prometheus.GaugeVec
	leases       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stills_ingest_reconnects_total",
			Help: "Source sessions restarted after an error.",
		}, []string{"stream"}),
		sourceErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stills_ingest_source_errors_total",
			Help: "Source errors (connection, protocol, missing parameter sets).",
		}, []string{"stream"}),
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stills_ingest_stream_status",
			Help: "1 for the stream's current status, 0 for the others.",
		}, []string{"stream", "status"}),
		leases: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stills_ingest_leases_held",
			Help: "Streams this ingest holds the lease of (with a stream store).",
		}),
	}
	var err error
	if m.reconnects, err = promreg.Register(reg, m.reconnects); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if m.sourceErrors, err = promreg.Register(reg, m.sourceErrors); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if m.status, err = promreg.Register(reg, m.status); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if m.leases, err = promreg.Register(reg, m.leases); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return m, nil
}
func (m *metrics) setStatus(stream, status string) {
	for _, s := range statuses {
		v := 0.0
		if s == status {
			v = 1
		}
		m.status.WithLabelValues(stream, s).Set(v)
	}
}

func (m *metrics) forget(stream string) {
	m.reconnects.DeleteLabelValues(stream)
	m.sourceErrors.DeleteLabelValues(stream)
	for _, s := range statuses {
		m.status.DeleteLabelValues(stream, s)
	}
}
