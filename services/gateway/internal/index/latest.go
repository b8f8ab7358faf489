package index

import "sync"

// latestCache keeps the newest entry of each stream in memory: preview
// URLs then cost no bbolt transaction. A generation per stream keeps a
// reader that began before an invalidation from storing what it read.
type latestCache struct {
	mu  sync.RWMutex
	m   map[string]Entry
	gen map[string]uint64
}

func (c *latestCache) get(stream string) (Entry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[stream]
	return e, ok
}

func (c *latestCache) generation(stream string) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen[stream]
}

func (c *latestCache) put(stream string, e Entry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[stream] != gen {
		return // invalidated while it was read
	}
	if c.m == nil {
		c.m = map[string]Entry{}
	}
	c.m[stream] = e
}

func (c *latestCache) invalidate(stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == nil {
		c.gen = map[string]uint64{}
	}
	c.gen[stream]++
	delete(c.m, stream)
}
