package render

import "sync"

// flight runs one call per key at a time and hands its result to every
// caller that asked for the same key meanwhile (a minimal singleflight).
type flight struct {
	mu    sync.Mutex
	calls map[string]*call
}

type call struct {
	done  chan struct{}
	value any
	dups  int
}

// do runs fn for key unless a call for key is in flight, in which case it
// waits for that one. shared reports whether the value went to more than
// one caller.
func (f *flight) do(key string, fn func() any) (v any, shared bool) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*call{}
	}
	if c, ok := f.calls[key]; ok {
		c.dups++
		f.mu.Unlock()
		<-c.done
		return c.value, true
	}
	c := &call{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()

	defer func() {
		f.mu.Lock()
		delete(f.calls, key)
		shared = c.dups > 0
		f.mu.Unlock()
		close(c.done)
	}()
	c.value = fn()
	return c.value, false
}
