package publisher

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/services/ingest/internal/promreg"
)

type metrics struct {
	published *prometheus.CounterVec
	errors    *prometheus.CounterVec
	retries   *prometheus.CounterVec
	refused   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stills_ingest_segments_published_total",
			Help: "SegmentStarted events acknowledged by JetStream.",
		}, []string{"stream"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stills_ingest_publish_errors_total",
			Help: "SegmentStarted events that failed after every retry.",
		}, []string{"stream"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stills_ingest_publish_retries_total",
			Help: "Publish attempts repeated after an error or a missing ack.",
		}, []string{"stream"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stills_ingest_refused_total",
			Help: "Segments refused before publishing, by reason.",
		}, []string{"reason"}),
	}
	var err error
	for _, c := range []**prometheus.CounterVec{&m.published, &m.errors, &m.retries, &m.refused} {
		if *c, err = promreg.Register(reg, *c); err != nil {
			return nil, fmt.Errorf("publisher: %w", err)
		}
	}
	return m, nil
}
