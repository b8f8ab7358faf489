// Package index is the gateway's materialized view of the THUMBS stream: per
// stream, one entry per UTC second keyed by the big-endian keyframe time in
// milliseconds, in a bbolt file. The last applied stream sequence is written
// in the same transaction as the entries, so a restart resumes exactly where
// it stopped and a crash never applies a message twice.
package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/stills-video/stills/pkg/streamname"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// appendFill is the bucket fill percent for time-ordered appends.
const appendFill = 0.9

var (
	bucketStreams = []byte("streams")
	bucketMeta    = []byte("meta")
	keyApplied    = []byte("applied_seq")
)

// DB is the index. Queries may run concurrently with Apply.
//
// Beside the bbolt file it keeps every stream's entry times in memory (a
// column, ~4 bytes an entry, rebuilt by a key scan at Open, changed after
// each committed write): time queries (Range, NearestTime, Bounds, Count)
// open no transaction, record queries read only the one key they found.
type DB struct {
	db      *bolt.DB
	applied atomic.Uint64
	latest  latestCache
	// wmu orders writes: a write and its column change happen together.
	wmu  sync.Mutex
	cols atomic.Pointer[map[string]*column]
}

// Open opens or creates the index file at path.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	d := &DB{db: bdb}
	err = bdb.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketStreams); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if v := meta.Get(keyApplied); len(v) == 8 {
			d.applied.Store(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err == nil {
		err = d.loadColumns()
	}
	if err != nil {
		bdb.Close()
		return nil, fmt.Errorf("index: init %s: %w", path, err)
	}
	return d, nil
}

// Close closes the file.
func (d *DB) Close() error { return d.db.Close() }

// LastApplied is the highest THUMBS sequence applied.
func (d *DB) LastApplied() uint64 { return d.applied.Load() }

// Message is one THUMBS message to apply. A nil Event (undecodable) only
// advances the sequence.
type Message struct {
	Seq   uint64
	Event *stillsv1.ThumbnailStored
}

// Result tells what an Apply did.
type Result struct {
	// Applied counts messages with a sequence above the previous
	// LastApplied; Skipped of those were invalid.
	Applied, Skipped int
	// Added counts new entries (a new second of a stream).
	Added int
	// Latest holds the streams whose newest entry was added or changed.
	Latest []string
}

// Apply writes msgs in one transaction. Messages at or below LastApplied
// are ignored; applying the same event twice leaves one entry.
func (d *DB) Apply(msgs []Message) (Result, error) {
	var (
		res Result
		ops []colOp
	)
	d.wmu.Lock()
	defer d.wmu.Unlock()
	last := d.applied.Load()
	next := last
	err := d.db.Update(func(tx *bolt.Tx) error {
		streams := tx.Bucket(bucketStreams)
		latest := map[string]bool{}
		for _, m := range msgs {
			if m.Seq <= next {
				continue
			}
			next = m.Seq
			res.Applied++
			ev := m.Event
			if ev == nil || ev.GetTimeMs() < 0 || streamname.Validate(ev.GetStream()) != nil {
				res.Skipped++
				continue
			}
			e := fromEvent(ev)
			if e.empty() {
				res.Skipped++
				continue
			}
			b, err := streams.CreateBucketIfNotExists([]byte(ev.GetStream()))
			if err != nil {
				return err
			}
			// Entries arrive mostly in time order (appends): fill pages
			// instead of splitting them in half.
			b.FillPercent = appendFill
			op, isLatest, err := put(b, e)
			if err != nil {
				return err
			}
			if op.del == noTime && op.add != noTime {
				res.Added++
			}
			if op.add != noTime {
				op.stream = ev.GetStream()
				ops = append(ops, op)
			}
			if isLatest && !latest[ev.GetStream()] {
				latest[ev.GetStream()] = true
				res.Latest = append(res.Latest, ev.GetStream())
			}
		}
		if next == last {
			return nil
		}
		return tx.Bucket(bucketMeta).Put(keyApplied, binary.BigEndian.AppendUint64(nil, next))
	})
	if err != nil {
		return Result{}, fmt.Errorf("index: apply: %w", err)
	}
	d.applied.Store(next)
	d.applyOps(ops)
	for _, name := range res.Latest {
		d.latest.invalidate(name)
	}
	return res, nil
}

// put merges e into the entry of its second. It reports the key change
// (op.del noTime and op.add set: a new second) and whether the written
// entry is the stream's newest.
func put(b *bolt.Bucket, e Entry) (op colOp, isLatest bool, err error) {
	none := colOp{del: noTime, add: noTime}
	sec := floorSec(e.TimeMs)
	c := b.Cursor()
	lastK, _ := c.Last()
	k, v := c.Seek(timeKey(sec))
	if k != nil && keyTime(k) < sec+1000 {
		old, err := decodeRecord(keyTime(k), v)
		if err != nil {
			return none, false, err
		}
		if !old.merge(e) {
			return none, false, nil
		}
		if old.TimeMs != keyTime(k) {
			if err := b.Delete(k); err != nil {
				return none, false, err
			}
			op = colOp{del: keyTime(k), add: old.TimeMs}
		} else {
			op = none
		}
		isLatest = keyTime(lastK) == keyTime(k)
		return op, isLatest, b.Put(timeKey(old.TimeMs), encodeRecord(old))
	}
	isLatest = lastK == nil || keyTime(lastK) < e.TimeMs
	return colOp{del: noTime, add: e.TimeMs}, isLatest, b.Put(timeKey(e.TimeMs), encodeRecord(e))
}

// ResetApplied forgets the applied sequence (the THUMBS stream was
// recreated); entries stay and re-applying them is harmless.
func (d *DB) ResetApplied() error {
	err := d.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyApplied) })
	if err != nil {
		return fmt.Errorf("index: reset: %w", err)
	}
	d.applied.Store(0)
	return nil
}
