package retention

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/layout"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/gateway/internal/index"
)

// failingDelete makes Delete fail while broken is set.
type failingDelete struct {
	blob.Store
	broken bool
}

func (f *failingDelete) Delete(ctx context.Context, keys ...string) error {
	if f.broken {
		return errors.New("storage down")
	}
	return f.Store.Delete(ctx, keys...)
}

const t0 = int64(1_700_000_000_000)

func setup(t *testing.T) (*index.DB, *failingDelete) {
	t.Helper()
	db, err := index.Open(filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &failingDelete{Store: local}
	var msgs []index.Message
	for i := range 300 { // 300 s of 1 thumbnail/s for two streams
		for _, name := range []string{"short", "long/cam"} {
			ms := t0 + int64(i)*1000
			tm := layout.FromMillis(ms)
			jk, mk := layout.JPEG(name, tm), layout.MP4(name, tm)
			for _, k := range []string{jk, mk} {
				if err := local.Put(context.Background(), k, []byte(k), ""); err != nil {
					t.Fatal(err)
				}
			}
			msgs = append(msgs, index.Message{Seq: uint64(len(msgs) + 1), Event: &stillsv1.ThumbnailStored{
				Stream: name, TimeMs: ms, Jpegs: []*stillsv1.StoredObject{{Key: jk}}, Mp4: &stillsv1.StoredObject{Key: mk}}})
		}
	}
	if _, err := db.Apply(msgs); err != nil {
		t.Fatal(err)
	}
	return db, store
}

func exists(t *testing.T, s blob.Store, key string) bool {
	_, err := s.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestSweep(t *testing.T) {
	db, store := setup(t)
	now := time.UnixMilli(t0 + 300_000) // 5 minutes after the first
	retention := map[string]time.Duration{"short": time.Minute, "long/cam": time.Hour}
	pruned := map[string]int{}
	j := New(Config{
		Retention: func(s string) time.Duration { return retention[s] },
		Batch:     7,
		Now:       func() time.Time { return now },
		OnPruned:  func(s string) { pruned[s]++ },
	}, db, store)

	store.broken = true
	if _, err := j.Sweep(context.Background()); err == nil {
		t.Fatal("a failed storage delete must fail the pass")
	}
	if first, _, _, _ := db.Bounds("short"); first != t0 {
		t.Fatal("index entries removed although their objects were not")
	}
	store.broken = false
	st, err := j.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// short keeps the last minute: entries at t0+240s..t0+299s.
	if st.Entries != 240 || st.Objects != 480 {
		t.Fatalf("stats %+v, want 240 entries and 480 objects", st)
	}
	if first, _, _, _ := db.Bounds("short"); first != t0+240_000 {
		t.Fatalf("short starts at %d", first-t0)
	}
	if first, _, _, _ := db.Bounds("long/cam"); first != t0 {
		t.Fatal("long/cam pruned within its retention")
	}
	// The in-memory time column was trimmed with bbolt: counts, ranges and
	// nearest lookups see only what is left.
	if n, _ := db.Count("short"); n != 60 {
		t.Fatalf("short counts %d entries, want 60", n)
	}
	if times, _ := db.Range("short", 0, t0+1_000_000); len(times) != 60 || times[0] != t0+240_000 {
		t.Fatalf("short range: %d times from %d", len(times), times[0]-t0)
	}
	if e, ok, err := db.Nearest("short", t0); err != nil || !ok || e.TimeMs != t0+240_000 {
		t.Fatalf("nearest to a pruned time: %+v %v %v", e, ok, err)
	}
	for i, want := range map[int64]bool{0: false, 239: false, 240: true, 299: true} {
		tm := layout.FromMillis(t0 + i*1000)
		if exists(t, store, layout.JPEG("short", tm)) != want || exists(t, store, layout.MP4("short", tm)) != want {
			t.Errorf("objects of short at +%ds: exist != %v", i, want)
		}
	}
	if !exists(t, store, layout.JPEG("long/cam", layout.FromMillis(t0))) {
		t.Error("object of long/cam deleted")
	}
	if pruned["short"] != 1 || pruned["long/cam"] != 0 {
		t.Errorf("pruned %v", pruned)
	}
	if st, _ := j.Sweep(context.Background()); st.Entries != 0 {
		t.Fatalf("second pass removed %d", st.Entries)
	}
}

func TestSweepIndexOnly(t *testing.T) {
	db, store := setup(t)
	now := time.UnixMilli(t0 + 10*time.Hour.Milliseconds())
	j := New(Config{
		Retention:     func(string) time.Duration { return time.Minute },
		DeleteObjects: func(context.Context) bool { return false },
		Now:           func() time.Time { return now },
	}, db, store)
	st, err := j.Sweep(context.Background())
	if err != nil || st.Entries != 600 || st.Objects != 0 {
		t.Fatalf("%+v %v", st, err)
	}
	if names, _ := db.Streams(); len(names) != 0 {
		t.Fatalf("streams left %v", names)
	}
	if !exists(t, store, layout.JPEG("short", layout.FromMillis(t0))) {
		t.Fatal("a replica that does not delete objects deleted one")
	}
}

func TestRunStops(t *testing.T) {
	db, store := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	passes := make(chan struct{}, 10)
	j := New(Config{
		Interval:  time.Millisecond,
		Retention: func(string) time.Duration { return time.Minute },
		DeleteObjects: func(context.Context) bool {
			passes <- struct{}{}
			return true
		},
	}, db, store)
	done := make(chan struct{})
	go func() { j.Run(ctx); close(done) }()
	<-passes
	<-passes
	cancel()
	<-done
	if names, _ := db.Streams(); len(names) != 0 {
		t.Fatal(fmt.Sprint("everything is past a minute old, left: ", names))
	}
}
