package ingest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamstore"
)

// startStore seeds the store with the configured streams, opens the
// leases and starts the watch, lease and status loops (they end with ctx).
func (s *Service) startStore(ctx context.Context, bg *sync.WaitGroup) error {
	created, err := s.cfg.Store.Seed(ctx, s.cfg.Streams)
	if err != nil {
		return fmt.Errorf("ingest: seed streams: %w", err)
	}
	s.leases, err = openLeases(ctx, s.js, s.cfg.Instance, s.cfg.LeaseTTL, s.log)
	if err != nil {
		return fmt.Errorf("ingest: leases: %w", err)
	}
	s.log.Info("streams from the store", "seeded", created, "lease_ttl", s.cfg.LeaseTTL)
	loops := []func(context.Context){s.watch, s.runLeases, s.runStatus}
	bg.Add(len(loops))
	for _, loop := range loops {
		go func() {
			defer bg.Done()
			loop(ctx)
		}()
	}
	return nil
}

// watch applies the store's stream list until ctx ends, watching again
// (after a second) when the watch fails.
func (s *Service) watch(ctx context.Context) {
	for {
		err := s.cfg.Store.Watch(ctx, func(streams []config.Stream) {
			if err := s.SetStreams(streams); err != nil {
				s.log.Error("stream list from the store refused", "err", err)
			}
		})
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("stream watch failed, watching again", "err", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// kickStatus asks the status loop to write now.
func (s *Service) kickStatus() {
	select {
	case s.statusKick <- struct{}{}:
	default:
	}
}

// runStatus writes the status of every stream pulled here every
// StatusInterval and on every change, and deletes the status of removed
// streams, until ctx ends.
func (s *Service) runStatus(ctx context.Context) {
	tick := time.NewTicker(s.cfg.StatusInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.statusKick:
		}
		s.writeStatus(ctx)
	}
}

func (s *Service) writeStatus(ctx context.Context) {
	s.mu.Lock()
	pulls := make([]*pull, 0, len(s.pulls))
	for _, p := range s.pulls {
		pulls = append(pulls, p)
	}
	removed := s.removed
	s.removed = nil
	s.mu.Unlock()
	now := time.Now().UTC()
	for _, p := range pulls {
		st := p.status(s.cfg.KeyframeTimeout)
		err := s.cfg.Store.PutStatus(ctx, streamstore.Status{
			Name: st.Name, URL: st.URL, Status: st.Status, LastKeyframeAt: st.LastKeyframeAt,
			Segments: st.SegmentsPublished, Errors: st.Errors, Error: st.LastError,
			Ingest: s.cfg.Instance, UpdatedAt: now,
		})
		if err != nil && ctx.Err() == nil {
			s.log.Warn("status not written", "stream", st.Name, "err", err)
		}
	}
	// After the puts: a status snapshotted before a removal is not
	// written back after its deletion.
	for _, name := range removed {
		if err := s.cfg.Store.DeleteStatus(ctx, name); err != nil && ctx.Err() == nil {
			s.log.Warn("status not deleted", "stream", name, "err", err)
		}
	}
}
