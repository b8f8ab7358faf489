package worker

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Termination reasons (the label of stills_thumbnailer_terminated_total).
const (
	ReasonInvalidEvent    = "invalid_event"    // refused before any work
	ReasonInvalidKeyframe = "invalid_keyframe" // cannot be muxed (no parameter sets, no picture)
	ReasonUndecodable     = "undecodable"      // libav could not decode it
	ReasonRetriesExceeded = "retries_exceeded" // transient errors until the last delivery
)

// Error kinds (the label of stills_thumbnailer_errors_total).
const (
	KindStorage = "storage"
	KindPublish = "publish"
	KindDecode  = "decode" // libav failures other than undecodable input
	KindAck     = "ack"
)

// Metrics are the worker's Prometheus collectors, shared by all workers of
// a service, plus plain counters for tests and status.
type Metrics struct {
	thumbnails prometheus.Counter
	errors     *prometheus.CounterVec
	terminated *prometheus.CounterVec
	duration   prometheus.Histogram

	snapshots        prometheus.Counter
	snapshotFailures *prometheus.CounterVec

	stored, terminatedN, errorsN, naks, progress atomic.Int64
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		thumbnails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stills_thumbnailer_thumbnails_total",
			Help: "Segment events stored (MP4 and JPEGs written, ThumbnailStored published).",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stills_thumbnailer_errors_total",
			Help: "Transient errors by kind; the event is redelivered.",
		}, []string{"kind"}),
		terminated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stills_thumbnailer_terminated_total",
			Help: "Events terminated with a dead-letter record, by reason.",
		}, []string{"reason"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stills_thumbnailer_duration_seconds",
			Help:    "Time to handle one segment event, from receipt to ack.",
			Buckets: []float64{.002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5},
		}),
		snapshots: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stills_thumbnailer_snapshots_total",
			Help: "Camera snapshots fetched and stored as the canonical JPEG.",
		}),
		snapshotFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stills_thumbnailer_snapshot_failures_total",
			Help: "Camera snapshot fetches that failed, by reason; the keyframe was decoded instead.",
		}, []string{"reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.thumbnails, m.errors, m.terminated, m.duration, m.snapshots, m.snapshotFailures} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// Stats is a snapshot of the counters.
type Stats struct {
	Stored     int64 // events fully handled
	Terminated int64 // events terminated (dead-lettered)
	Errors     int64 // transient errors
	Naks       int64 // redeliveries asked for
	InProgress int64 // InProgress signals sent for long events
}

// Stats returns the counters so far.
func (m *Metrics) Stats() Stats {
	return Stats{Stored: m.stored.Load(), Terminated: m.terminatedN.Load(), Errors: m.errorsN.Load(), Naks: m.naks.Load(), InProgress: m.progress.Load()}
}

func (m *Metrics) error(kind string) {
	m.errors.WithLabelValues(kind).Inc()
	m.errorsN.Add(1)
}

func (m *Metrics) terminate(reason string) {
	m.terminated.WithLabelValues(reason).Inc()
	m.terminatedN.Add(1)
}
