package index

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/layout"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// event is a complete ThumbnailStored of stream at ms.
func event(stream string, ms int64) *stillsv1.ThumbnailStored {
	t := layout.FromMillis(ms)
	return &stillsv1.ThumbnailStored{
		Stream: stream, TimeMs: ms, Source: "decode",
		Jpegs: []*stillsv1.StoredObject{{Key: layout.JPEG(stream, t), Bytes: 100, Width: 320, Height: 180}},
		Mp4:   &stillsv1.StoredObject{Key: layout.MP4(stream, t), Bytes: 200, Width: 1920, Height: 1080},
	}
}

// applyAll applies events with sequences after LastApplied, one per message.
func applyAll(t *testing.T, db *DB, evs ...*stillsv1.ThumbnailStored) Result {
	t.Helper()
	var msgs []Message
	seq := db.LastApplied()
	for _, ev := range evs {
		seq++
		msgs = append(msgs, Message{Seq: seq, Event: ev})
	}
	res, err := db.Apply(msgs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const base = int64(1_700_000_000_000) // 2023-11-14T22:13:20Z

func TestApply_EntriesAndSequence(t *testing.T) {
	db := openTest(t)
	res := applyAll(t, db, event("cam/a", base), event("cam/a", base+3000), event("cam/b", base+1500))
	if res.Applied != 3 || res.Added != 3 || res.Skipped != 0 {
		t.Fatalf("result %+v", res)
	}
	if !reflect.DeepEqual(res.Latest, []string{"cam/a", "cam/b"}) {
		t.Fatalf("latest %v", res.Latest)
	}
	if db.LastApplied() != 3 {
		t.Fatalf("applied %d", db.LastApplied())
	}
	e, ok, err := db.Latest("cam/a")
	if err != nil || !ok || e.TimeMs != base+3000 {
		t.Fatalf("latest %+v %v %v", e, ok, err)
	}
	want := fromEvent(event("cam/a", base+3000))
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", e, want)
	}
	if names, _ := db.Streams(); !reflect.DeepEqual(names, []string{"cam/a", "cam/b"}) {
		t.Fatalf("streams %v", names)
	}
}

func TestApply_Idempotent(t *testing.T) {
	db := openTest(t)
	ev := event("cam", base+250)
	applyAll(t, db, ev)
	// The same message again (redelivery after a crash) is ignored by
	// sequence; the same event under a new sequence leaves one entry.
	if res, err := db.Apply([]Message{{Seq: 1, Event: ev}}); err != nil || res.Applied != 0 {
		t.Fatalf("replayed seq: %+v %v", res, err)
	}
	res := applyAll(t, db, ev)
	if res.Applied != 1 || res.Added != 0 || len(res.Latest) != 0 {
		t.Fatalf("same event, new seq: %+v", res)
	}
	times, _ := db.Range("cam", 0, base*2)
	if len(times) != 1 || db.LastApplied() != 2 {
		t.Fatalf("times %v applied %d", times, db.LastApplied())
	}
}

func TestApply_FirstKeyframeKeepsTheSecond(t *testing.T) {
	db := openTest(t)
	applyAll(t, db, event("cam", base+600))
	applyAll(t, db, event("cam", base+900)) // later in the same second: dropped
	e, _, _ := db.Second("cam", base/1000)
	if e.TimeMs != base+600 {
		t.Fatalf("kept %d", e.TimeMs)
	}
	applyAll(t, db, event("cam", base+100)) // earlier, delivered late: takes over
	times, _ := db.Range("cam", 0, base*2)
	if !reflect.DeepEqual(times, []int64{base + 100}) {
		t.Fatalf("times %v", times)
	}
}

func TestApply_RenderAddsJPEGToMP4OnlyEntry(t *testing.T) {
	db := openTest(t)
	mp4only := event("cam", base)
	mp4only.Jpegs = nil
	applyAll(t, db, mp4only)
	if e, _, _ := db.Latest("cam"); len(e.JPEGs) != 0 || !e.HasMP4() {
		t.Fatalf("mp4-only entry %+v", e)
	}
	render := event("cam", base)
	render.Mp4, render.Source = nil, "render"
	res := applyAll(t, db, render)
	e, _, _ := db.Latest("cam")
	if _, ok := e.JPEG(); !ok || !e.HasMP4() || res.Added != 0 || len(res.Latest) != 1 {
		t.Fatalf("merged %+v result %+v", e, res)
	}
}

func TestApply_SkipsInvalidButAdvances(t *testing.T) {
	db := openTest(t)
	empty := event("cam", base)
	empty.Jpegs, empty.Mp4 = nil, nil
	badKeys := event("cam", base)
	badKeys.Jpegs[0].Key, badKeys.Mp4.Key = "cam/../../etc/passwd", "/abs"
	res := applyAll(t, db, nil, event("../etc", base), event("cam", -5), empty, badKeys, event("cam", base))
	if res.Applied != 6 || res.Skipped != 5 || res.Added != 1 || db.LastApplied() != 6 {
		t.Fatalf("result %+v applied %d", res, db.LastApplied())
	}
	if names, _ := db.Streams(); !reflect.DeepEqual(names, []string{"cam"}) {
		t.Fatalf("streams %v", names)
	}
}

func TestQueries(t *testing.T) {
	db := openTest(t)
	// Entries at +0 s, +3.2 s, +6 s, +20.5 s.
	applyAll(t, db, event("s", base), event("s", base+3200), event("s", base+6000), event("s", base+20500))
	for _, tc := range []struct {
		name string
		got  func() (Entry, bool, error)
		want int64 // -1: none
	}{
		{"latest", func() (Entry, bool, error) { return db.Latest("s") }, base + 20500},
		{"latest unknown", func() (Entry, bool, error) { return db.Latest("x") }, -1},
		{"second exact", func() (Entry, bool, error) { return db.Second("s", base/1000+3) }, base + 3200},
		{"second missing", func() (Entry, bool, error) { return db.Second("s", base/1000+4) }, -1},
		{"second past end", func() (Entry, bool, error) { return db.Second("s", base/1000+99) }, -1},
		{"nearest before all", func() (Entry, bool, error) { return db.Nearest("s", 0) }, base},
		{"nearest after all", func() (Entry, bool, error) { return db.Nearest("s", base*2) }, base + 20500},
		{"nearest exact", func() (Entry, bool, error) { return db.Nearest("s", base+6000) }, base + 6000},
		{"nearest closer to later", func() (Entry, bool, error) { return db.Nearest("s", base+5000) }, base + 6000},
		{"nearest closer to earlier", func() (Entry, bool, error) { return db.Nearest("s", base+1000) }, base},
		{"nearest tie takes earlier", func() (Entry, bool, error) { return db.Nearest("s", base+1600) }, base},
		{"nearest negative", func() (Entry, bool, error) { return db.Nearest("s", -1000) }, base},
		{"nearest unknown", func() (Entry, bool, error) { return db.Nearest("x", base) }, -1},
		{"first at", func() (Entry, bool, error) { return db.FirstAtOrAfter("s", base+3200) }, base + 3200},
		{"first after", func() (Entry, bool, error) { return db.FirstAtOrAfter("s", base+3201) }, base + 6000},
		{"first before all", func() (Entry, bool, error) { return db.FirstAtOrAfter("s", -1) }, base},
		{"first past end", func() (Entry, bool, error) { return db.FirstAtOrAfter("s", base+20501) }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok, err := tc.got()
			if err != nil {
				t.Fatal(err)
			}
			if tc.want < 0 {
				if ok {
					t.Fatalf("want none, got %d", e.TimeMs)
				}
				return
			}
			if !ok || e.TimeMs != tc.want {
				t.Fatalf("got %d (%v), want %d", e.TimeMs, ok, tc.want)
			}
		})
	}
	// NearestTime agrees with Nearest.
	for _, ms := range []int64{-1000, 0, base, base + 1000, base + 1600, base + 5000, base + 6000, base * 2} {
		e, ok, _ := db.Nearest("s", ms)
		got, gok, err := db.NearestTime("s", ms)
		if err != nil || gok != ok || got != e.TimeMs {
			t.Errorf("NearestTime(%d) = %d %v %v, Nearest %d %v", ms, got, gok, err, e.TimeMs, ok)
		}
	}
	if _, ok, err := db.NearestTime("x", base); ok || err != nil {
		t.Error("NearestTime of an unknown stream")
	}
	for _, tc := range []struct {
		from, to int64
		want     []int64
	}{
		{0, base * 2, []int64{base, base + 3200, base + 6000, base + 20500}},
		{base + 3200, base + 6000, []int64{base + 3200, base + 6000}},
		{base + 1, base + 3199, nil},
		{base * 2, base * 3, nil},
	} {
		got, err := db.Range("s", tc.from, tc.to)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("range(%d,%d) = %v %v, want %v", tc.from, tc.to, got, err, tc.want)
		}
	}
	if f, l, ok, err := db.Bounds("s"); err != nil || !ok || f != base || l != base+20500 {
		t.Fatalf("bounds %d %d %v %v", f, l, ok, err)
	}
	if _, _, ok, err := db.Bounds("x"); err != nil || ok {
		t.Fatalf("bounds of unknown: %v %v", ok, err)
	}
}

func TestReopenKeepsSequenceAndEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	applyAll(t, db, event("cam", base), event("cam", base+3000))
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	db.Close()
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.LastApplied() != 2 {
		t.Fatalf("applied %d", db.LastApplied())
	}
	if e, ok, _ := db.Latest("cam"); !ok || e.TimeMs != base+3000 {
		t.Fatalf("latest %+v", e)
	}
	if err := db.ResetApplied(); err != nil || db.LastApplied() != 0 {
		t.Fatalf("reset: %v %d", err, db.LastApplied())
	}
}

func TestOpen_Errors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "index.db", "\x00")); err == nil {
		t.Fatal("open of an invalid path succeeded")
	}
}

func TestDecodeRecord_Corrupt(t *testing.T) {
	good := encodeRecord(fromEvent(event("cam", base)))
	for _, b := range [][]byte{nil, {9}, good[:1], good[:len(good)-1], {1, 200}, {1, 0, 255, 255, 255, 255, 15}} {
		if _, err := decodeRecord(0, b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decode %x: %v, want ErrCorrupt", b, err)
		}
	}
	if e, err := decodeRecord(base, good); err != nil || e.TimeMs != base {
		t.Fatalf("good record: %+v %v", e, err)
	}
}

func TestEntryTime(t *testing.T) {
	e := Entry{TimeMs: base + 999}
	if e.Unix() != base/1000 || !e.Time().Equal(time.UnixMilli(base+999)) {
		t.Fatalf("unix %d time %v", e.Unix(), e.Time())
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(fromEvent(event("cam", base))))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := decodeRecord(0, b); err == nil {
			if _, err := decodeRecord(0, encodeRecord(e)); err != nil {
				t.Fatalf("re-encode: %v", err)
			}
		}
	})
}

func BenchmarkNearest(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 57_600 // 48 h of 3 s segments
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
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok, err := db.Nearest("cam/1", base+int64(i%n)*3000+1400); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func TestPrune(t *testing.T) {
	d := openTest(t)
	var msgs []Message
	for i := range 10 {
		ms := int64(1_700_000_000_000 + i*1000)
		msgs = append(msgs, Message{Seq: uint64(i + 1), Event: &stillsv1.ThumbnailStored{Stream: "s/1", TimeMs: ms,
			Jpegs: []*stillsv1.StoredObject{{Key: fmt.Sprintf("s/1/%d.jpg", i)}}, Mp4: &stillsv1.StoredObject{Key: fmt.Sprintf("s/1/%d.mp4", i)}}})
	}
	if _, err := d.Apply(msgs); err != nil {
		t.Fatal(err)
	}
	old, err := d.Expired("s/1", 1_700_000_004_000, 3)
	if err != nil || len(old) != 3 || old[2].TimeMs != 1_700_000_002_000 {
		t.Fatalf("expired: %v %v", old, err)
	}
	if k := old[0].Keys(); len(k) != 2 || k[0] != "s/1/0.jpg" || k[1] != "s/1/0.mp4" {
		t.Fatalf("keys %v", k)
	}
	if n, err := d.DeleteRange("s/1", 0, old[2].TimeMs); err != nil || n != 3 {
		t.Fatalf("delete: %d %v", n, err)
	}
	if first, _, ok, _ := d.Bounds("s/1"); !ok || first != 1_700_000_003_000 {
		t.Fatalf("first after prune %d", first)
	}
	if _, ok, _ := d.Latest("s/1"); !ok {
		t.Fatal("latest")
	}
	if n, err := d.DeleteRange("s/1", 0, 1<<62); err != nil || n != 7 {
		t.Fatalf("delete rest: %d %v", n, err)
	}
	if names, _ := d.Streams(); len(names) != 0 {
		t.Fatalf("empty stream kept: %v", names)
	}
	if _, ok, _ := d.Latest("s/1"); ok {
		t.Fatal("latest entry survived its deletion")
	}
	if n, err := d.DeleteRange("nope", 0, 1); err != nil || n != 0 {
		t.Fatalf("unknown stream: %d %v", n, err)
	}
	if d.Size() <= 0 {
		t.Fatal("size")
	}
}
