package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/services/gateway/internal/api"
	"github.com/stills-video/stills/services/gateway/internal/auth"
	"github.com/stills-video/stills/services/gateway/internal/render"
	"github.com/stills-video/stills/services/gateway/internal/retention"
)

// JanitorConfig configures retention (dvr.retention per stream).
type JanitorConfig struct {
	// Interval between passes; 0 = 1 minute.
	Interval time.Duration
	// Off disables the janitor (index and objects are kept).
	Off bool
	// KeepObjects makes this replica prune only its own index. Otherwise
	// the replica holding the janitor lock (NATS KV bucket
	// stills_janitor) also deletes the objects; without a bus (tests)
	// it always does.
	KeepObjects bool
	// Now is the clock; nil = time.Now.
	Now func() time.Time
}

// newChecker builds the play-token checker from the auth config.
func newChecker(a config.Auth, log *slog.Logger) (*auth.Checker, error) {
	c, err := auth.New(auth.Config{TokenKey: a.TokenKey, BackendURL: a.BackendURL, CacheTTL: a.CacheTTLOrDefault(), Log: log})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return c, nil
}

// newRenderer renders ondemand JPEGs over the bus.
func newRenderer(js jetstream.JetStream) api.Renderer {
	if js == nil || js.Conn() == nil {
		return nil
	}
	return render.New(js.Conn(), render.DefaultTimeout)
}

func (s *Service) newJanitor(js jetstream.JetStream) *retention.Janitor {
	jc := s.cfg.Janitor
	interval := jc.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	var deleteObjects func(context.Context) bool
	switch {
	case jc.KeepObjects:
		deleteObjects = func(context.Context) bool { return false }
	case js != nil:
		// A dead leader blocks deletes for at most ttl; the live one
		// refreshes every interval.
		lock := newLeaderLock(js, max(3*interval, 5*time.Second), s.log)
		deleteObjects = lock.held
	}
	return retention.New(retention.Config{
		Interval: interval,
		Retention: func(name string) time.Duration {
			if st, ok := s.streams.get(name); ok {
				return st.DVR.Retention.D()
			}
			return config.DefaultRetention
		},
		DeleteObjects: deleteObjects,
		Now:           jc.Now,
		OnPruned:      s.cache.Forget,
		Log:           s.cfg.Log,
	}, s.db, s.store)
}

// leaderLock elects the one replica that deletes objects: a key in a KV
// bucket whose entries expire after ttl, created by the first replica and
// refreshed by it on every pass.
type leaderLock struct {
	js  jetstream.JetStream
	ttl time.Duration
	id  string
	log *slog.Logger
	kv  jetstream.KeyValue
}

const (
	lockBucket = "stills_janitor"
	lockKey    = "leader"
)

func newLeaderLock(js jetstream.JetStream, ttl time.Duration, log *slog.Logger) *leaderLock {
	host, _ := os.Hostname()
	id := host + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	return &leaderLock{js: js, ttl: ttl, id: id, log: log}
}

// held takes or refreshes the lock and reports whether this replica holds
// it. Any failure means "not held" (objects then wait for the next pass).
func (l *leaderLock) held(ctx context.Context) bool {
	if l.kv == nil {
		kv, err := l.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: lockBucket, TTL: l.ttl, History: 1})
		if err != nil {
			l.log.Warn("janitor lock bucket", "err", err)
			return false
		}
		l.kv = kv
	}
	if _, err := l.kv.Create(ctx, lockKey, []byte(l.id)); err == nil {
		return true
	}
	e, err := l.kv.Get(ctx, lockKey)
	if err != nil || string(e.Value()) != l.id {
		return false
	}
	_, err = l.kv.Update(ctx, lockKey, []byte(l.id), e.Revision())
	return err == nil
}

// registerOpsMetrics adds the lag behind THUMBS and the index size.
func registerOpsMetrics(reg prometheus.Registerer, s *Service) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "stills_gateway_index_lag",
			Help: "THUMBS messages not yet applied to the index (stream last sequence - applied).",
		}, func() float64 { return float64(s.follower.Lag()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "stills_gateway_index_bytes",
			Help: "Size of the index file.",
		}, func() float64 { return float64(s.db.Size()) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
