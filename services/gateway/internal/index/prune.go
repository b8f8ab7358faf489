package index

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Expired lists up to limit entries of stream older than beforeMs, oldest
// first, with the object keys they hold.
func (d *DB) Expired(stream string, beforeMs int64, limit int) (entries []Entry, err error) {
	err = d.view(stream, func(c *bolt.Cursor) error {
		for k, v := c.First(); k != nil && keyTime(k) < beforeMs && len(entries) < limit; k, v = c.Next() {
			e, err := decodeRecord(keyTime(k), v)
			if err != nil {
				e = Entry{TimeMs: keyTime(k)} // corrupt: drop it anyway
			}
			entries = append(entries, e)
		}
		return nil
	})
	return entries, err
}

// Keys are the object keys of e.
func (e Entry) Keys() []string {
	var keys []string
	for _, j := range e.JPEGs {
		keys = append(keys, j.Key)
	}
	if e.MP4.Key != "" {
		keys = append(keys, e.MP4.Key)
	}
	return keys
}

// DeleteRange removes the entries of stream in [fromMs, toMs] in one
// transaction and returns how many it removed; a stream left empty loses
// its bucket.
func (d *DB) DeleteRange(stream string, fromMs, toMs int64) (int, error) {
	n := 0
	d.wmu.Lock()
	defer d.wmu.Unlock()
	err := d.db.Update(func(tx *bolt.Tx) error {
		streams := tx.Bucket(bucketStreams)
		b := streams.Bucket([]byte(stream))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.Seek(timeKey(max(fromMs, 0))); k != nil && keyTime(k) <= toMs; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		if k, _ := c.First(); k == nil {
			return streams.DeleteBucket([]byte(stream))
		}
		return nil
	})
	d.latest.invalidate(stream)
	if err != nil {
		return 0, fmt.Errorf("index: delete %s: %w", stream, err)
	}
	d.trimColumn(stream, max(fromMs, 0), toMs)
	return n, nil
}

// Size is the index file's size in bytes.
func (d *DB) Size() int64 {
	var n int64
	d.db.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	return n
}
