package api

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/services/gateway/internal/live"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, hub *live.Hub) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stills_gateway_requests_total",
			Help: "Thumbnail API requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stills_gateway_request_seconds",
			Help:    "Thumbnail API request duration by route.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5},
		}, []string{"route"}),
	}
	viewers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stills_gateway_mjpeg_viewers",
		Help: "Open preview.mjpeg responses.",
	}, func() float64 { return float64(hub.Total()) })
	dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "stills_gateway_mjpeg_dropped_total",
		Help: "preview.mjpeg viewers dropped for being too slow.",
	}, func() float64 { return float64(hub.Dropped()) })
	for _, c := range []prometheus.Collector{m.requests, m.duration, viewers, dropped} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}
