// Package latest keeps the newest JPEG and MP4 of every stream in memory, so
// the live preview URLs cost no storage round trip. The index says what the
// newest entry is; the cache only holds its bytes.
package latest

import (
	"context"
	"fmt"
	"sync"

	"github.com/stills-video/stills/pkg/blob"
)

// Kind selects the object of an entry.
type Kind int

// Kinds.
const (
	JPEG Kind = iota
	MP4
)

// Blob is a cached object.
type Blob struct {
	Key    string
	TimeMs int64
	Data   []byte
}

// slot holds the objects of the newest entry of a stream (one per JPEG
// size, or the MP4).
type slot struct {
	mu sync.Mutex // held while fetching: one fetch per slot at a time
	bs []*Blob
}

func (s *slot) find(key string) *Blob {
	for _, b := range s.bs {
		if b.Key == key {
			return b
		}
	}
	return nil
}

// maxSizes bounds the JPEG sizes cached per stream.
const maxSizes = 8

// Cache holds the newest objects per stream and Kind.
type Cache struct {
	store blob.Store
	mu    sync.Mutex
	slots map[string]*[2]slot
}

// New returns an empty cache reading from store.
func New(store blob.Store) *Cache {
	return &Cache{store: store, slots: map[string]*[2]slot{}}
}

func (c *Cache) slot(stream string, k Kind) *slot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.slots[stream]
	if !ok {
		s = &[2]slot{}
		c.slots[stream] = s
	}
	return &s[k]
}

// Get returns the bytes of key (the object of the entry at timeMs), from
// memory when cached, else from the store; a newer object replaces the
// cached one, an older one is returned without being cached.
func (c *Cache) Get(ctx context.Context, stream string, k Kind, key string, timeMs int64) (*Blob, error) {
	s := c.slot(stream, k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.find(key); b != nil && b.TimeMs == timeMs {
		return b, nil
	}
	data, err := c.store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("latest: %w", err)
	}
	b := &Blob{Key: key, TimeMs: timeMs, Data: data}
	switch {
	case len(s.bs) == 0 || s.bs[0].TimeMs < timeMs:
		s.bs = []*Blob{b}
	case s.bs[0].TimeMs == timeMs && len(s.bs) < maxSizes:
		s.bs = append(s.bs, b)
	}
	return b, nil
}

// Peek returns the cached blob of key, without touching the store.
func (c *Cache) Peek(stream string, k Kind, key string) (*Blob, bool) {
	s := c.slot(stream, k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.find(key); b != nil {
		return b, true
	}
	return nil, false
}

// Forget drops a stream's blobs.
func (c *Cache) Forget(stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.slots, stream)
}
