package index

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// noTime marks "none" in a colOp.
const noTime = -1

// colOp is what a write did to one stream's keys: del removed, then add
// added (noTime when none). An entry whose second gets an earlier keyframe
// moves from del to add.
type colOp struct {
	stream   string
	del, add int64
}

// column returns the time column of stream, nil when it has no entries.
func (d *DB) column(stream string) *column {
	if m := d.cols.Load(); m != nil {
		return (*m)[stream]
	}
	return nil
}

// setColumn adds (c != nil) or removes the column of stream. The map is
// copied on write, so readers take no lock to find a column; callers hold
// d.wmu.
func (d *DB) setColumn(stream string, c *column) {
	old := d.cols.Load()
	m := make(map[string]*column, len(*old)+1)
	for k, v := range *old {
		m[k] = v
	}
	if c == nil {
		delete(m, stream)
	} else {
		m[stream] = c
	}
	d.cols.Store(&m)
}

// loadColumns builds every stream's column with one key scan per bucket.
func (d *DB) loadColumns() error {
	m := map[string]*column{}
	err := d.db.View(func(tx *bolt.Tx) error {
		streams := tx.Bucket(bucketStreams)
		return streams.ForEachBucket(func(name []byte) error {
			col := &column{}
			c := streams.Bucket(name).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				col.appendSorted(keyTime(k))
			}
			if col.n > 0 {
				m[string(name)] = col
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("index: load times: %w", err)
	}
	d.cols.Store(&m)
	return nil
}

// applyOps brings the columns in step with a committed write; callers hold
// d.wmu, so the columns change in the order bbolt committed.
func (d *DB) applyOps(ops []colOp) {
	for i := 0; i < len(ops); {
		name := ops[i].stream
		c := d.column(name)
		if c == nil {
			c = &column{}
			d.setColumn(name, c)
		}
		c.mu.Lock()
		for ; i < len(ops) && ops[i].stream == name; i++ {
			if op := ops[i]; op.del != noTime {
				c.deleteRange(op.del, op.del)
			}
			if op := ops[i]; op.add != noTime {
				c.insert(op.add)
			}
		}
		empty := c.n == 0
		c.mu.Unlock()
		if empty {
			d.setColumn(name, nil)
		}
	}
}

// trimColumn removes [fromMs, toMs] from stream's column after a committed
// range delete; callers hold d.wmu.
func (d *DB) trimColumn(stream string, fromMs, toMs int64) {
	c := d.column(stream)
	if c == nil {
		return
	}
	c.mu.Lock()
	c.deleteRange(fromMs, toMs)
	empty := c.n == 0
	c.mu.Unlock()
	if empty {
		d.setColumn(stream, nil)
	}
}

// ColumnBytes is the memory held by the in-memory time columns.
func (d *DB) ColumnBytes() int64 {
	var n int64
	for _, c := range *d.cols.Load() {
		c.mu.RLock()
		n += c.bytes()
		c.mu.RUnlock()
	}
	return n
}
