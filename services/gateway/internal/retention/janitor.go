// Package retention is the gateway's janitor: every interval it removes
// the index entries older than each stream's dvr.retention (a range delete
// per batch) and, when this replica is the one that deletes, their objects
// from storage (one batched Delete per batch, before the index entries go,
// so a failed delete is retried on the next pass).
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/services/gateway/internal/index"
)

// Config configures a Janitor.
type Config struct {
	// Interval between passes (0 = 1 minute).
	Interval time.Duration
	// Retention returns the retention of a stream.
	Retention func(stream string) time.Duration
	// DeleteObjects reports, at each pass, whether this replica deletes
	// the objects (nil = always). Others only prune their index.
	DeleteObjects func(ctx context.Context) bool
	// Batch is the entries per index transaction and storage Delete (0 =
	// 1,000).
	Batch int
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// OnPruned is called after a stream lost entries (nil = nothing).
	OnPruned func(stream string)
	Log      *slog.Logger
}

// Janitor enforces retention.
type Janitor struct {
	cfg   Config
	db    *index.DB
	store blob.Store
	log   *slog.Logger
}

// Stats tell what a pass did.
type Stats struct {
	Entries, Objects int
}

// New returns a janitor of db and store.
func New(cfg Config, db *index.DB, store blob.Store) *Janitor {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DeleteObjects == nil {
		cfg.DeleteObjects = func(context.Context) bool { return true }
	}
	if cfg.OnPruned == nil {
		cfg.OnPruned = func(string) {}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Janitor{cfg: cfg, db: db, store: store, log: cfg.Log.With("component", "retention")}
}

// Run sweeps at once and then every interval until ctx ends.
func (j *Janitor) Run(ctx context.Context) {
	t := time.NewTicker(j.cfg.Interval)
	defer t.Stop()
	for {
		st, err := j.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			j.log.Warn("retention pass failed; retrying next interval", "err", err)
		case st.Entries > 0:
			j.log.Info("retention pass", "entries", st.Entries, "objects", st.Objects)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep runs one pass over every indexed stream.
func (j *Janitor) Sweep(ctx context.Context) (Stats, error) {
	var total Stats
	streams, err := j.db.Streams()
	if err != nil {
		return total, err
	}
	deleteObjects := j.cfg.DeleteObjects(ctx)
	now := j.cfg.Now()
	for _, name := range streams {
		cutoff := now.Add(-j.cfg.Retention(name)).UnixMilli()
		st, err := j.sweepStream(ctx, name, cutoff, deleteObjects)
		total.Entries += st.Entries
		total.Objects += st.Objects
		if st.Entries > 0 {
			j.cfg.OnPruned(name)
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (j *Janitor) sweepStream(ctx context.Context, name string, cutoff int64, deleteObjects bool) (Stats, error) {
	var st Stats
	for ctx.Err() == nil {
		old, err := j.db.Expired(name, cutoff, j.cfg.Batch)
		if err != nil || len(old) == 0 {
			return st, err
		}
		if deleteObjects {
			var keys []string
			for _, e := range old {
				keys = append(keys, e.Keys()...)
			}
			if err := j.store.Delete(ctx, keys...); err != nil {
				return st, fmt.Errorf("retention: delete objects of %s: %w", name, err)
			}
			st.Objects += len(keys)
		}
		n, err := j.db.DeleteRange(name, old[0].TimeMs, old[len(old)-1].TimeMs)
		st.Entries += n
		if err != nil {
			return st, err
		}
	}
	return st, ctx.Err()
}
