package index

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// view runs fn on the stream's bucket; fn is not called for an unknown
// stream.
func (d *DB) view(stream string, fn func(c *bolt.Cursor) error) error {
	err := d.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketStreams).Bucket([]byte(stream))
		if b == nil {
			return nil
		}
		return fn(b.Cursor())
	})
	if err != nil {
		return fmt.Errorf("index: %s: %w", stream, err)
	}
	return nil
}

// find runs pick on the stream's cursor and decodes the record it returns.
func (d *DB) find(stream string, pick func(c *bolt.Cursor) (k, v []byte)) (Entry, bool, error) {
	var (
		e  Entry
		ok bool
	)
	err := d.view(stream, func(c *bolt.Cursor) error {
		k, v := pick(c)
		if k == nil {
			return nil
		}
		var err error
		e, err = decodeRecord(keyTime(k), v)
		ok = err == nil
		return err
	})
	return e, ok, err
}

// Latest is the newest entry of stream, from memory after the first read
// (Apply and DeleteRange invalidate it).
func (d *DB) Latest(stream string) (Entry, bool, error) {
	if e, ok := d.latest.get(stream); ok {
		return e, true, nil
	}
	gen := d.latest.generation(stream)
	e, ok, err := d.find(stream, (*bolt.Cursor).Last)
	if err == nil && ok {
		d.latest.put(stream, e, gen)
	}
	return e, ok, err
}

// record reads the entry at ms, a time the column just gave; if a write
// removed it since, pick chooses on the cursor instead (as without the
// column).
func (d *DB) record(stream string, ms int64, pick func(c *bolt.Cursor) (k, v []byte)) (Entry, bool, error) {
	return d.find(stream, func(c *bolt.Cursor) ([]byte, []byte) {
		if k, v := c.Seek(timeKey(ms)); k != nil && keyTime(k) == ms {
			return k, v
		}
		return pick(c)
	})
}

// atOrAfter is the first time ≥ ms of stream, from memory.
func (d *DB) atOrAfter(stream string, ms int64) (int64, bool) {
	c := d.column(stream)
	if c == nil {
		return 0, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.atOrAfter(ms)
}

// Second is the entry of the UTC second unix, if any.
func (d *DB) Second(stream string, unix int64) (Entry, bool, error) {
	from, to := unix*1000, (unix+1)*1000
	t, ok := d.atOrAfter(stream, from)
	if !ok || t >= to {
		return Entry{}, false, nil
	}
	return d.record(stream, t, func(c *bolt.Cursor) ([]byte, []byte) {
		k, v := c.Seek(timeKey(from))
		if k == nil || keyTime(k) >= to {
			return nil, nil
		}
		return k, v
	})
}

// FirstAtOrAfter is the first entry at or after ms.
func (d *DB) FirstAtOrAfter(stream string, ms int64) (Entry, bool, error) {
	ms = max(ms, 0)
	t, ok := d.atOrAfter(stream, ms)
	if !ok {
		return Entry{}, false, nil
	}
	return d.record(stream, t, func(c *bolt.Cursor) ([]byte, []byte) { return c.Seek(timeKey(ms)) })
}

// Nearest is the entry closest to ms; on a tie the earlier one.
func (d *DB) Nearest(stream string, ms int64) (Entry, bool, error) {
	ms = max(ms, 0)
	t, ok, _ := d.NearestTime(stream, ms)
	if !ok {
		return Entry{}, false, nil
	}
	return d.record(stream, t, nearest(ms))
}

// NearestTime is the time (ms) of Nearest, from memory.
func (d *DB) NearestTime(stream string, ms int64) (int64, bool, error) {
	c := d.column(stream)
	if c == nil {
		return 0, false, nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.nearest(max(ms, 0))
	return t, ok, nil
}

func nearest(ms int64) func(c *bolt.Cursor) ([]byte, []byte) {
	return func(c *bolt.Cursor) ([]byte, []byte) {
		ak, av := c.Seek(timeKey(ms))
		var bk, bv []byte
		if ak == nil {
			bk, bv = c.Last()
		} else {
			bk, bv = c.Prev()
		}
		switch {
		case ak == nil:
			return bk, bv
		case bk == nil:
			return ak, av
		case ms-keyTime(bk) <= keyTime(ak)-ms:
			return bk, bv
		default:
			return ak, av
		}
	}
}

// Range returns the entry times (ms) in [fromMs, toMs], oldest first.
func (d *DB) Range(stream string, fromMs, toMs int64) ([]int64, error) {
	return d.AppendRange(nil, stream, fromMs, toMs), nil
}

// AppendRange appends the entry times (ms) in [fromMs, toMs] to dst, oldest
// first, from memory.
func (d *DB) AppendRange(dst []int64, stream string, fromMs, toMs int64) []int64 {
	c := d.column(stream)
	if c == nil {
		return dst
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.appendRange(dst, max(fromMs, 0), toMs)
}

// Bounds returns the first and last entry times (ms) of stream, from
// memory.
func (d *DB) Bounds(stream string) (first, last int64, ok bool, err error) {
	c := d.column(stream)
	if c == nil {
		return 0, 0, false, nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	first, last, ok = c.bounds()
	return first, last, ok, nil
}

// Streams lists the indexed stream names in lexical order.
func (d *DB) Streams() ([]string, error) {
	var out []string
	err := d.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStreams).ForEachBucket(func(k []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("index: streams: %w", err)
	}
	return out, nil
}
