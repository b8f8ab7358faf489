package index

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Count is the number of entries (thumbnail seconds) stored for stream; 0
// for an unknown stream. It reads bbolt's page headers (Bucket.Stats), so it
// stays exact whatever deletes entries, at about one page read per ~40
// entries: ~0.25 ms for 57,600 entries, 9× faster than walking a cursor (BenchmarkCount).
func (d *DB) Count(stream string) (int, error) {
	n := 0
	err := d.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketStreams).Bucket([]byte(stream)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("index: count %s: %w", stream, err)
	}
	return n, nil
}
