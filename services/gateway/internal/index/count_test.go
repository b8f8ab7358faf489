package index

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestCount(t *testing.T) {
	db := openTest(t)
	if n, err := db.Count("none"); err != nil || n != 0 {
		t.Fatalf("Count of an unknown stream = %d, %v", n, err)
	}
	// Two events in one second are one entry; a redelivery adds nothing.
	applyAll(t, db, event("a/b", base), event("a/b", base+400), event("a/b", base+3000), event("c", base))
	applyAll(t, db, event("a/b", base+3000))
	for stream, want := range map[string]int{"a/b": 2, "c": 1, "a": 0} {
		if n, err := db.Count(stream); err != nil || n != want {
			t.Errorf("Count(%q) = %d, %v; want %d", stream, n, err, want)
		}
	}
}

// openFilled returns an index with n entries of "cam/1", 3 s apart.
func openFilled(b *testing.B, n int) *DB {
	db, err := Open(filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	msgs := make([]Message, 0, 512)
	for i := range n {
		msgs = append(msgs, Message{Seq: uint64(i + 1), Event: event("cam/1", base+int64(i)*3000)})
		if len(msgs) == cap(msgs) || i == n-1 {
			if _, err := db.Apply(msgs); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	return db
}

func BenchmarkCount(b *testing.B) {
	const n = 57_600 // 48 h of 3 s segments
	db := openFilled(b, n)
	for _, bc := range []struct {
		name  string
		count func(string) (int, error)
	}{{"column", db.Count}, {"stats", db.countStats}, {"cursor", db.countCursor}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if got, err := bc.count("cam/1"); err != nil || got != n {
					b.Fatal(got, err)
				}
			}
		})
	}
}

// countCursor counts by walking the keys; the benchmark's baseline.
func (d *DB) countCursor(stream string) (int, error) {
	n := 0
	err := d.view(stream, func(c *bolt.Cursor) error {
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}

// countStats counts from bbolt's page headers (Bucket.Stats); the
// benchmark's other baseline.
func (d *DB) countStats(stream string) (int, error) {
	n := 0
	err := d.view(stream, func(c *bolt.Cursor) error {
		n = c.Bucket().Stats().KeyN
		return nil
	})
	return n, err
}
