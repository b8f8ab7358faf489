package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamname"
)

// registry holds the per-stream settings: the config file's, or, with a
// stream store, the KV's (replaced on every change by watchStreams).
type registry struct {
	mu   sync.RWMutex
	m    map[string]config.Stream
	seen map[string]time.Time // when the current settings of a stream arrived
	now  func() time.Time
}

func newRegistry(streams []config.Stream) (*registry, error) {
	r := &registry{now: time.Now}
	for _, st := range streams {
		if err := streamname.Validate(st.Name); err != nil {
			return nil, fmt.Errorf("gateway: stream %q: %w", st.Name, err)
		}
	}
	r.replace(streams)
	return r, nil
}

// replace swaps in a new set of streams. Streams with invalid names are
// dropped (the store validates on write; this is defence in depth).
func (r *registry) replace(streams []config.Stream) {
	now := r.now()
	m := make(map[string]config.Stream, len(streams))
	seen := make(map[string]time.Time, len(streams))
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range streams {
		if streamname.Validate(st.Name) != nil {
			continue
		}
		st.FillDefaults()
		m[st.Name] = st
		seen[st.Name] = now
		if old, ok := r.m[st.Name]; ok && reflect.DeepEqual(old, st) {
			seen[st.Name] = r.seen[st.Name]
		}
	}
	r.m, r.seen = m, seen
}

func (r *registry) get(name string) (config.Stream, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	st, ok := r.m[name]
	return st, ok
}

// seenAt is when the current settings of name arrived.
func (r *registry) seenAt(name string) (time.Time, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.seen[name]
	return t, ok
}

// watchStreams follows the stream store into the registry until ctx ends,
// re-watching after an error.
func (s *Service) watchStreams(ctx context.Context) {
	for {
		err := s.cfg.StreamStore.Watch(ctx, func(streams []config.Stream) {
			s.streams.replace(streams)
			s.log.Info("streams updated", "streams", len(streams))
		})
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("stream store watch ended; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// adminOpenWarning warns when the admin API is open (no http.admin_key)
// on a listener other people can reach.
func adminOpenWarning(log *slog.Logger, addr string) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
		return
	}
	log.Warn("the admin API /api/streams is open to anyone who reaches " + addr + ": set http.admin_key")
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
