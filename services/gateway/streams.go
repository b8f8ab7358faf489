package gateway

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamname"
)

// registry holds the per-stream settings; the admin API will change it at
// run time.
type registry struct {
	mu sync.RWMutex
	m  map[string]config.Stream
}

func newRegistry(streams []config.Stream) (*registry, error) {
	r := &registry{m: map[string]config.Stream{}}
	for _, st := range streams {
		st.FillDefaults()
		if err := streamname.Validate(st.Name); err != nil {
			return nil, fmt.Errorf("gateway: stream %q: %w", st.Name, err)
		}
		r.m[st.Name] = st
	}
	return r, nil
}

func (r *registry) get(name string) (config.Stream, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	st, ok := r.m[name]
	return st, ok
}

func registerIndexMetrics(reg prometheus.Registerer, s *Service) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "stills_gateway_index_applied_seq",
			Help: "Highest THUMBS stream sequence applied to the index.",
		}, func() float64 { return float64(s.db.LastApplied()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "stills_gateway_index_received_total",
			Help: "THUMBS messages received by the index follower since start.",
		}, func() float64 { return float64(s.follower.Received()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "stills_gateway_index_caught_up",
			Help: "1 once the index has caught up with THUMBS.",
		}, func() float64 {
			if s.follower.CaughtUp() {
				return 1
			}
			return 0
		}),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
