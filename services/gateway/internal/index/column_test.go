package index

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// checkColumn fails unless c holds exactly want (sorted) and keeps its
// invariants: non-empty chunks, ascending, offsets within range.
func checkColumn(t *testing.T, c *column, want []int64) {
	t.Helper()
	got := c.appendRange(nil, 0, math.MaxInt64)
	if !slices.Equal(got, want) {
		t.Fatalf("column holds %d times, want %d\n got %v\nwant %v", len(got), len(want), head(got), head(want))
	}
	if c.n != len(want) {
		t.Fatalf("n = %d, want %d", c.n, len(want))
	}
	prev := int64(-1)
	for ci, ch := range c.chunks {
		if len(ch.off) == 0 || len(ch.off) > chunkMax {
			t.Fatalf("chunk %d holds %d", ci, len(ch.off))
		}
		for i := range ch.off {
			if ch.at(i) <= prev {
				t.Fatalf("chunk %d[%d] = %d after %d", ci, i, ch.at(i), prev)
			}
			prev = ch.at(i)
		}
	}
}

func head(s []int64) []int64 { return s[:min(len(s), 8)] }

// TestColumnAgainstSlice drives a column and a sorted slice with the same
// random appends, late inserts, far-apart times (beyond a chunk's 49-day
// offset range) and range deletes, and compares every answer.
func TestColumnAgainstSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := &column{}
	var ref []int64
	const day = 86_400_000
	for step := range 30_000 {
		var ms int64
		switch r := rng.IntN(100); {
		case r < 60 || len(ref) == 0: // append
			ms = base + int64(step)*3000
			if len(ref) > 0 {
				ms = max(ms, ref[len(ref)-1]+1+rng.Int64N(3000))
			}
		case r < 85: // late, anywhere in the stored span
			ms = ref[0] - 1000 + rng.Int64N(ref[len(ref)-1]-ref[0]+2000)
		case r < 90: // far away, before or after
			ms = base + (rng.Int64N(400)-200)*day
		case r < 97: // delete a small range
			from := ref[rng.IntN(len(ref))]
			to := from + rng.Int64N(20_000)
			c.deleteRange(from, to)
			i, _ := slices.BinarySearch(ref, from)
			j, _ := slices.BinarySearch(ref, to+1)
			ref = slices.Delete(ref, i, j)
			continue
		default: // retention: delete a prefix
			to := ref[rng.IntN(len(ref))]
			c.deleteRange(0, to)
			j, _ := slices.BinarySearch(ref, to+1)
			ref = slices.Delete(ref, 0, j)
			continue
		}
		c.insert(ms)
		if i, found := slices.BinarySearch(ref, ms); !found {
			ref = slices.Insert(ref, i, ms)
		}
		if step%1000 == 0 {
			checkColumn(t, c, ref)
		}
	}
	checkColumn(t, c, ref)
	for range 2000 {
		ms := ref[0] - 5000 + rng.Int64N(ref[len(ref)-1]-ref[0]+10_000)
		if got, ok := c.nearest(ms); !ok || got != refNearest(ref, ms) {
			t.Fatalf("nearest(%d) = %d %v, want %d", ms, got, ok, refNearest(ref, ms))
		}
		i, _ := slices.BinarySearch(ref, ms)
		got, ok := c.atOrAfter(ms)
		if want := i < len(ref); ok != want || (ok && got != ref[i]) {
			t.Fatalf("atOrAfter(%d) = %d %v", ms, got, ok)
		}
		to := ms + rng.Int64N(3_600_000)
		j, _ := slices.BinarySearch(ref, to+1)
		if got := c.appendRange(nil, ms, to); !slices.Equal(got, ref[i:j]) {
			t.Fatalf("range [%d, %d]: %d times, want %d", ms, to, len(got), j-i)
		}
	}
	first, last, ok := c.bounds()
	if !ok || first != ref[0] || last != ref[len(ref)-1] {
		t.Fatalf("bounds %d %d %v", first, last, ok)
	}
	c.deleteRange(0, math.MaxInt64)
	checkColumn(t, c, nil)
	if _, ok := c.nearest(base); ok {
		t.Fatal("nearest in an empty column")
	}
	if _, _, ok := c.bounds(); ok {
		t.Fatal("bounds of an empty column")
	}
}

func refNearest(ref []int64, ms int64) int64 {
	i, _ := slices.BinarySearch(ref, ms)
	switch {
	case i == len(ref):
		return ref[i-1]
	case i == 0:
		return ref[0]
	case ms-ref[i-1] <= ref[i]-ms:
		return ref[i-1]
	default:
		return ref[i]
	}
}

// TestColumnSplitsFullChunk inserts into the middle of full chunks: they
// split in halves and stay ordered.
func TestColumnSplitsFullChunk(t *testing.T) {
	c := &column{}
	var ref []int64
	for i := range 3 * chunkMax {
		c.appendSorted(int64(i) * 10)
		ref = append(ref, int64(i)*10)
	}
	for _, ms := range []int64{5, 10*chunkMax + 5, 10*chunkMax - 5, 3, 1} {
		c.insert(ms)
		i, _ := slices.BinarySearch(ref, ms)
		ref = slices.Insert(ref, i, ms)
		checkColumn(t, c, ref)
	}
	c.insert(10) // present: nothing changes
	checkColumn(t, c, ref)
	if len(c.chunks) < 4 {
		t.Fatalf("%d chunks: a full chunk did not split", len(c.chunks))
	}
	// A range delete across chunks keeps the head of the first and the
	// tail of the last.
	c.deleteRange(100, 10*2*chunkMax+50)
	i, _ := slices.BinarySearch(ref, 100)
	j, _ := slices.BinarySearch(ref, 10*2*chunkMax+51)
	ref = slices.Delete(ref, i, j)
	checkColumn(t, c, ref)
}

// keysOf lists the bbolt keys of stream: what the column must mirror.
func keysOf(t *testing.T, db *DB, stream string) []int64 {
	t.Helper()
	var out []int64
	if err := db.view(stream, func(c *bolt.Cursor) error {
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			out = append(out, keyTime(k))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func columnOf(db *DB, stream string) []int64 {
	return db.AppendRange(nil, stream, 0, math.MaxInt64)
}

func TestColumnFollowsIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	same := func(t *testing.T, stream string, want []int64) {
		t.Helper()
		keys := keysOf(t, db, stream)
		if !slices.Equal(keys, want) {
			t.Fatalf("bbolt holds %v, want %v", keys, want)
		}
		if got := columnOf(db, stream); !slices.Equal(got, keys) {
			t.Fatalf("column %v, bbolt %v", got, keys)
		}
		if n, _ := db.Count(stream); n != len(keys) {
			t.Fatalf("count %d, want %d", n, len(keys))
		}
	}
	t.Run("apply", func(t *testing.T) {
		applyAll(t, db, event("a", base), event("a", base+3000), event("a", base+6000), event("b", base+100))
		same(t, "a", []int64{base, base + 3000, base + 6000})
		same(t, "b", []int64{base + 100})
	})
	t.Run("late insert", func(t *testing.T) {
		applyAll(t, db, event("a", base+4500), event("a", base-2000))
		same(t, "a", []int64{base - 2000, base, base + 3000, base + 4500, base + 6000})
	})
	t.Run("earlier keyframe of a stored second moves the key", func(t *testing.T) {
		applyAll(t, db, event("a", base+3500), event("a", base+3010)) // second base+3 s: +3000 stays, the first keyframe
		applyAll(t, db, event("b", base+50))                          // second base: +50 replaces +100
		same(t, "a", []int64{base - 2000, base, base + 3000, base + 4500, base + 6000})
		same(t, "b", []int64{base + 50})
		if e, ok, err := db.Nearest("b", base+100); err != nil || !ok || e.TimeMs != base+50 {
			t.Fatalf("nearest after the move: %+v %v %v", e, ok, err)
		}
	})
	t.Run("retention trim", func(t *testing.T) {
		if n, err := db.DeleteRange("a", 0, base+3000); err != nil || n != 3 {
			t.Fatalf("delete: %d %v", n, err)
		}
		same(t, "a", []int64{base + 4500, base + 6000})
		if n, err := db.DeleteRange("b", 0, base+1000); err != nil || n != 1 {
			t.Fatalf("delete: %d %v", n, err)
		}
		same(t, "b", nil)
		if _, _, ok, _ := db.Bounds("b"); ok {
			t.Fatal("bounds of a pruned stream")
		}
		if db.column("b") != nil {
			t.Fatal("empty column kept")
		}
	})
	t.Run("reopen", func(t *testing.T) {
		applyAll(t, db, event("b", base+9000))
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if db, err = Open(path); err != nil {
			t.Fatal(err)
		}
		same(t, "a", []int64{base + 4500, base + 6000})
		same(t, "b", []int64{base + 9000})
		if db.ColumnBytes() <= 0 {
			t.Fatal("column bytes")
		}
	})
}

// TestColumnRecordFallback: when the column names a time bbolt no longer
// holds (a write between the two reads), record queries fall back to the
// cursor and answer as bbolt alone would.
func TestColumnRecordFallback(t *testing.T) {
	db := openTest(t)
	applyAll(t, db, event("a", base), event("a", base+3000), event("a", base+9000))
	// Remove base+3000 from bbolt only: the column still names it.
	if err := db.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStreams).Bucket([]byte("a")).Delete(timeKey(base + 3000))
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		get  func() (Entry, bool, error)
		want int64 // -1: none
	}{
		{"nearest", func() (Entry, bool, error) { return db.Nearest("a", base+3100) }, base},
		{"first at or after", func() (Entry, bool, error) { return db.FirstAtOrAfter("a", base+1) }, base + 9000},
		{"second", func() (Entry, bool, error) { return db.Second("a", (base+3000)/1000) }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok, err := tc.get()
			if err != nil || ok != (tc.want >= 0) || (ok && e.TimeMs != tc.want) {
				t.Fatalf("%+v %v %v, want %d", e, ok, err, tc.want)
			}
		})
	}
}

// BenchmarkOpen is the column rebuild at Open (one key scan) of 200,000
// entries.
func BenchmarkOpen(b *testing.B) {
	db := openFilled(b, 200_000)
	path := db.db.Path()
	db.Close()
	for b.Loop() {
		d, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/200_000, "ns/entry")
}

// BenchmarkRangeHour is the times of one hour (1,200 entries) of 57,600.
func BenchmarkRangeHour(b *testing.B) {
	db := openFilled(b, 57_600)
	buf := make([]int64, 0, 2048)
	from := base + 20_000*3000
	b.ReportAllocs()
	for b.Loop() {
		if buf = db.AppendRange(buf[:0], "cam/1", from, from+3_599_999); len(buf) != 1200 {
			b.Fatal(len(buf))
		}
	}
}

// TestColumnConcurrent reads while Apply and DeleteRange write (run with
// -race); at the end the column matches bbolt.
func TestColumnConcurrent(t *testing.T) {
	db := openTest(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			applyAll(t, db, event("a", base+int64(i)*1000), event("a", base-int64(i)*1000-500))
			if i%20 == 19 {
				if _, err := db.DeleteRange("a", 0, base-int64(i)*500); err != nil {
					t.Error(err)
				}
			}
		}
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		times := db.AppendRange(nil, "a", 0, math.MaxInt64)
		if !slices.IsSorted(times) {
			t.Fatal("unsorted")
		}
		if _, _, err := db.Nearest("a", base); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := columnOf(db, "a"), keysOf(t, db, "a"); !slices.Equal(got, want) {
		t.Fatalf("column %d times, bbolt %d", len(got), len(want))
	}
}
