package api

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/services/gateway/internal/live"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	cache    sync.Map // obsKey → observers
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

// observe counts a request; the label lookups are cached per route and
// status (they hash and lock on every call otherwise).
func (m *metrics) observe(route string, status int, d time.Duration) {
	k := obsKey{route, status}
	o, ok := m.cache.Load(k)
	if !ok {
		o, _ = m.cache.LoadOrStore(k, observers{
			count:    m.requests.WithLabelValues(route, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(route),
		})
	}
	obs := o.(observers)
	obs.count.Inc()
	obs.duration.Observe(d.Seconds())
}

type obsKey struct {
	route  string
	status int
}

type observers struct {
	count    prometheus.Counter
	duration prometheus.Observer
}
