package ingest

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stills-video/stills/pkg/streamstore"

	"github.com/stills-video/stills/pkg/streamname"
)

// BucketLeases is the KV bucket of stream leases: key
// streamname.Token(stream), value the holding ingest's instance id. Its
// TTL is the lease TTL: a lease not renewed expires.
const BucketLeases = "stills_leases"

// leases are the streams this ingest holds. A lease is claimed with Create
// (only one ingest can), renewed with Update on its revision every third
// of the TTL and released with a Delete on its revision.
type leases struct {
	js  jetstream.JetStream
	kv  jetstream.KeyValue
	id  string
	ttl time.Duration
	log *slog.Logger

	kickc chan struct{}
	mu    sync.Mutex
	held  map[string]lease
}

type lease struct {
	rev     uint64
	renewed time.Time
}

func openLeases(ctx context.Context, js jetstream.JetStream, id string, ttl time.Duration, log *slog.Logger) (*leases, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      BucketLeases,
		Description: "which ingest pulls each stream",
		History:     1,
		TTL:         ttl,
		Storage:     jetstream.MemoryStorage,
	})
	if err != nil {
		return nil, err
	}
	return &leases{js: js, kv: kv, id: id, ttl: ttl, log: log, kickc: make(chan struct{}, 1), held: map[string]lease{}}, nil
}

func (l *leases) holds(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.held[name]
	return ok
}

func (l *leases) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held)
}

func (l *leases) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.held))
	for name := range l.held {
		out = append(out, name)
	}
	return out
}

// kick asks the lease loop for a round now.
func (l *leases) kick() {
	select {
	case l.kickc <- struct{}{}:
	default:
	}
}

// runLeases renews, releases and claims leases every TTL/3 (and when the
// stream list changes) until ctx ends.
func (s *Service) runLeases(ctx context.Context) {
	tick := time.NewTicker(s.leases.ttl / 3)
	defer tick.Stop()
	for {
		s.leaseRound(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.leases.kickc:
		}
	}
}

// leaseRound renews the leases held (a lost one stops its pull at once),
// releases those of streams no longer configured, then claims the streams
// nobody holds, one at a time at random moments spread over TTL/3 (the
// first at once when this ingest holds nothing), so that ingests starting
// together share the streams rather than the first taking them all.
func (s *Service) leaseRound(ctx context.Context) {
	l := s.leases
	configured := map[string]bool{}
	s.mu.Lock()
	for _, st := range s.streams {
		configured[st.Name] = true
	}
	s.mu.Unlock()

	changed := false
	for _, name := range l.names() {
		if ctx.Err() != nil {
			return
		}
		l.mu.Lock()
		cur := l.held[name]
		l.mu.Unlock()
		if !configured[name] {
			l.release(ctx, name, cur.rev)
			changed = true
			continue
		}
		rev, err := l.kv.Update(ctx, streamname.Token(name), []byte(l.id), cur.rev)
		l.mu.Lock()
		switch {
		case err == nil:
			l.held[name] = lease{rev: rev, renewed: time.Now()}
		case lostLease(err) || time.Since(cur.renewed) > l.ttl*2/3:
			delete(l.held, name)
			changed = true
			l.log.Warn("lease lost, stopping the pull", "stream", name, "err", err)
		default:
			l.log.Warn("lease renewal failed, retrying", "stream", name, "err", err)
		}
		l.mu.Unlock()
	}
	if changed {
		s.applyLeases()
	}

	taken, err := l.taken(ctx)
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("leases not listed", "err", err)
		}
		return
	}
	var unowned []string
	for name := range configured {
		if !taken[streamname.Token(name)] && !l.holds(name) {
			unowned = append(unowned, name)
		}
	}
	rand.Shuffle(len(unowned), func(i, j int) { unowned[i], unowned[j] = unowned[j], unowned[i] })
	for i, name := range unowned {
		if i > 0 || l.count() > 0 {
			// Spread this round's claims over TTL/3 at random, so that
			// ingests starting together share the streams.
			gap := l.ttl / 3 / time.Duration(len(unowned))
			t := time.NewTimer(rand.N(2*gap + 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		rev, err := l.kv.Create(ctx, streamname.Token(name), []byte(l.id))
		switch {
		case err == nil:
			l.mu.Lock()
			l.held[name] = lease{rev: rev, renewed: time.Now()}
			l.mu.Unlock()
			l.log.Info("lease claimed", "stream", name)
			s.applyLeases()
		case errors.Is(err, jetstream.ErrKeyExists):
		default:
			if ctx.Err() == nil {
				l.log.Warn("lease claim failed", "stream", name, "err", err)
			}
		}
	}
}

// taken returns the keys of the leases held by anyone.
func (l *leases) taken(ctx context.Context) (map[string]bool, error) {
	// Not kv.ListKeys: its watcher never ends when a lease expires while
	// it lists, and leases expire whenever an ingest dies.
	keys, err := streamstore.Keys(ctx, l.js, l.kv.Bucket())
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, key := range keys {
		if _, err := l.kv.Get(ctx, key); err == nil {
			out[key] = true
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, err
		}
	}
	return out, nil
}

// applyLeases starts and stops pulls after a lease change.
func (s *Service) applyLeases() {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	s.reconcile()
	s.m.leases.Set(float64(s.leases.count()))
}

// lostLease: the key moved on (another holder, expired or deleted), as
// opposed to an error reaching the server.
func lostLease(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) || errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted)
}

// release gives a lease back (only if still ours).
func (l *leases) release(ctx context.Context, name string, rev uint64) {
	l.mu.Lock()
	delete(l.held, name)
	l.mu.Unlock()
	if err := l.kv.Delete(ctx, streamname.Token(name), jetstream.LastRevision(rev)); err != nil && !lostLease(err) {
		l.log.Warn("lease release failed", "stream", name, "err", err)
	}
}

// releaseAll gives every lease back (shutdown: the others take over
// without waiting for the TTL).
func (l *leases) releaseAll(ctx context.Context) {
	for _, name := range l.names() {
		l.mu.Lock()
		rev := l.held[name].rev
		l.mu.Unlock()
		l.release(ctx, name, rev)
	}
}
