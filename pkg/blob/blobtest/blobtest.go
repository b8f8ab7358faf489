// Package blobtest is the contract every blob.Store passes: run it from
// an implementation's tests with Run.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stills-video/stills/pkg/blob"
)

// Run checks the Store contract against fresh, empty stores from
// newStore (one per subtest).
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"Stat", testStat},
		{"Delete", testDelete},
		{"DeleteBatch", testDeleteBatch},
		{"ListOrder", testListOrder},
		{"ListPrefix", testListPrefix},
		{"ListStop", testListStop},
		{"InvalidKeys", testInvalidKeys},
		{"ConcurrentPut", testConcurrentPut},
		{"DeepKeys", testDeepKeys},
		{"Canceled", testCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(ctx(t), key, data, "application/octet-stream"); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	data, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return data
}

// list returns the keys under prefix.
func list(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var keys []string
	err := s.List(ctx(t), prefix, func(i blob.Info) bool {
		keys = append(keys, i.Key)
		return true
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return keys
}

func testPutGet(t *testing.T, s blob.Store) {
	for _, data := range [][]byte{[]byte("\xff\xd8 a jpeg"), {}, bytes.Repeat([]byte{7}, 3<<20)} {
		key := fmt.Sprintf("cam1/2024/01/02/03/04/%02d.jpg", len(data)%60)
		put(t, s, key, data)
		if got := get(t, s, key); !bytes.Equal(got, data) {
			t.Errorf("Get(%q) = %d bytes, want %d", key, len(got), len(data))
		}
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	const key = "cam1/x.jpg"
	put(t, s, key, []byte("first, longer"))
	put(t, s, key, []byte("second"))
	put(t, s, key, []byte("second")) // a redelivery writes the same bytes
	if got := get(t, s, key); string(got) != "second" {
		t.Errorf("Get = %q, want %q", got, "second")
	}
	if keys := list(t, s, ""); !slices.Equal(keys, []string{key}) {
		t.Errorf("List = %q, want just %q", keys, key)
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	put(t, s, "cam1/a/b.jpg", []byte("x"))
	for _, key := range []string{"cam2/none.jpg", "cam1/a", "cam1/a/b.jpg/c", "cam1/a/c.jpg"} {
		if _, err := s.Get(ctx(t), key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", key, err)
		}
		if _, err := s.Stat(ctx(t), key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(%q) error = %v, want ErrNotFound", key, err)
		}
	}
}

func testStat(t *testing.T, s blob.Store) {
	data := bytes.Repeat([]byte("ab"), 1000)
	put(t, s, "cam1/s.jpg", data)
	info, err := s.Stat(ctx(t), "cam1/s.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != "cam1/s.jpg" || info.Size != int64(len(data)) || info.ModTime.IsZero() {
		t.Errorf("Stat = %+v, want key cam1/s.jpg, size %d, a mod time", info, len(data))
	}
}

func testDelete(t *testing.T, s blob.Store) {
	put(t, s, "cam1/a/1.jpg", []byte("1"))
	put(t, s, "cam1/a/2.jpg", []byte("2"))
	put(t, s, "cam1/b/1.jpg", []byte("3"))
	if err := s.Delete(ctx(t), "cam1/a/1.jpg", "cam1/missing.jpg", "cam1/b/1.jpg"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx(t)); err != nil {
		t.Fatalf("Delete(): %v", err)
	}
	if err := s.Delete(ctx(t), "nothing/here.jpg"); err != nil {
		t.Fatalf("Delete(missing): %v", err)
	}
	if _, err := s.Get(ctx(t), "cam1/a/1.jpg"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if keys := list(t, s, ""); !slices.Equal(keys, []string{"cam1/a/2.jpg"}) {
		t.Errorf("List after Delete = %q", keys)
	}
	// The emptied prefix takes new keys again.
	put(t, s, "cam1/b/2.jpg", []byte("4"))
	if got := get(t, s, "cam1/b/2.jpg"); string(got) != "4" {
		t.Errorf("Get = %q", got)
	}
}

func testDeleteBatch(t *testing.T, s blob.Store) {
	const n = 1500
	keys := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := range keys {
		keys[i] = fmt.Sprintf("cam1/2024/01/01/%02d/%02d/%02d.jpg", i/3600, i/60%60, i%60)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- s.Put(ctx(t), keys[i], []byte{byte(i)}, "image/jpeg")
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	put(t, s, "cam2/keep.jpg", []byte("k"))
	if got := len(list(t, s, "cam1/")); got != n {
		t.Fatalf("listed %d keys before Delete, want %d", got, n)
	}
	if err := s.Delete(ctx(t), keys...); err != nil {
		t.Fatalf("Delete(%d keys): %v", n, err)
	}
	if got := list(t, s, ""); !slices.Equal(got, []string{"cam2/keep.jpg"}) {
		t.Errorf("after Delete List = %d keys (%.3q…), want only cam2/keep.jpg", len(got), got)
	}
}

func testListOrder(t *testing.T, s blob.Store) {
	// '-' and '.' sort before '/': a store walking directories must still
	// give byte order of the whole key.
	want := []string{
		"cam1-hd/a.jpg",
		"cam1.x",
		"cam1/2024/01/01/00/00/00-preview.mp4",
		"cam1/2024/01/01/00/00/00.jpg",
		"cam1/2024/01/01/00/00/01.jpg",
		"cam1/2024/01/01/00/01/00.jpg",
		"cam1/2024/01/02/00/00/00.jpg",
		"cam10/a.jpg",
		"cam1_/a.jpg",
	}
	for _, i := range []int{4, 8, 0, 2, 7, 1, 6, 3, 5} {
		put(t, s, want[i], []byte(want[i]))
	}
	if got := list(t, s, ""); !slices.Equal(got, want) {
		t.Errorf("List = %q\nwant   %q", got, want)
	}
	var infos []blob.Info
	if err := s.List(ctx(t), "cam1/2024/01/01/00/00/", func(i blob.Info) bool {
		infos = append(infos, i)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(infos) != 3 || infos[1].Key != want[3] || infos[1].Size != int64(len(want[3])) || infos[1].ModTime.IsZero() {
		t.Errorf("List infos = %+v", infos)
	}
}

func testListPrefix(t *testing.T, s blob.Store) {
	for _, k := range []string{"cam1/a.jpg", "cam1/b/c.jpg", "cam10/a.jpg", "cam1-hd/a.jpg", "demo/lobby/x.jpg"} {
		put(t, s, k, []byte(k))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"cam1/", []string{"cam1/a.jpg", "cam1/b/c.jpg"}},
		{"cam10/", []string{"cam10/a.jpg"}},
		{"cam1", []string{"cam1-hd/a.jpg", "cam1/a.jpg", "cam1/b/c.jpg", "cam10/a.jpg"}},
		{"cam1/b", []string{"cam1/b/c.jpg"}},
		{"cam1/a.jpg", []string{"cam1/a.jpg"}},
		{"demo/", []string{"demo/lobby/x.jpg"}},
		{"cam2/", nil},
		{"cam1/zz/", nil},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			if got := list(t, s, tc.prefix); !slices.Equal(got, tc.want) {
				t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
			}
		})
	}
}

func testListStop(t *testing.T, s blob.Store) {
	for i := range 5 {
		put(t, s, fmt.Sprintf("cam1/%d/x.jpg", i), []byte("x"))
	}
	var got []string
	err := s.List(ctx(t), "cam1/", func(i blob.Info) bool {
		got = append(got, i.Key)
		return len(got) < 2
	})
	if err != nil || !slices.Equal(got, []string{"cam1/0/x.jpg", "cam1/1/x.jpg"}) {
		t.Errorf("List stopping after 2 = %q, %v", got, err)
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	bad := []string{"", "/abs", "a//b", "a/", ".", "..", "a/./b", "a/../b", "../escape", "a/..",
		`a\b`, "a\x00b", "bad\xffutf8", strings.Repeat("k", blob.MaxKeyLen+1)}
	for _, key := range bad {
		if err := s.Put(ctx(t), key, []byte("x"), ""); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%.40q) error = %.80v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Get(ctx(t), key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Get(%.40q) error = %.80v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctx(t), key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Stat(%.40q) error = %.80v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx(t), "ok/key", key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%.40q) error = %.80v, want ErrInvalidKey", key, err)
		}
	}
	for _, prefix := range []string{"/abs", "../x", "a/../", `a\`, "a//"} {
		if err := s.List(ctx(t), prefix, func(blob.Info) bool { return true }); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("List(%q) error = %v, want ErrInvalidKey", prefix, err)
		}
	}
	longest := "ok/" + strings.Repeat("k/", (blob.MaxKeyLen-4)/2) + "k" // MaxKeyLen bytes, 512 segments
	if len(longest) != blob.MaxKeyLen {
		t.Fatalf("test key is %d bytes", len(longest))
	}
	put(t, s, longest, []byte("fits"))
	if keys := list(t, s, ""); len(keys) != 1 {
		t.Errorf("after refused puts List = %q, want only the valid key", keys)
	}
}

func testConcurrentPut(t *testing.T, s blob.Store) {
	const key, writers, rounds = "cam1/live.jpg", 4, 5
	payload := func(w int) []byte { return bytes.Repeat([]byte{byte('a' + w)}, 256<<10) }
	put(t, s, key, payload(0))
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				data, err := s.Get(ctx(t), key)
				if err != nil {
					t.Errorf("Get during puts: %v", err)
					return
				}
				if len(data) != 256<<10 || !bytes.Equal(data, payload(int(data[0]-'a'))) {
					t.Errorf("Get during puts: %d bytes, not one writer's whole payload", len(data))
					return
				}
			}
		})
	}
	var writersWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			for range rounds {
				if err := s.Put(ctx(t), key, payload(w), "image/jpeg"); err != nil {
					t.Errorf("concurrent Put: %v", err)
				}
			}
		})
	}
	writersWG.Wait()
	close(stop)
	readers.Wait()
	if keys := list(t, s, ""); !slices.Equal(keys, []string{key}) {
		t.Errorf("List after concurrent puts = %q (temporary files left?)", keys)
	}
}

func testDeepKeys(t *testing.T, s blob.Store) {
	key := "site.a/building-1/floor_2/cam.03/2024/12/31/23/59/59-640x360.jpg"
	put(t, s, key, []byte("deep"))
	if got := get(t, s, key); string(got) != "deep" {
		t.Errorf("Get = %q", got)
	}
	if got := list(t, s, "site.a/building-1/"); !slices.Equal(got, []string{key}) {
		t.Errorf("List = %q", got)
	}
	if err := s.Delete(ctx(t), key); err != nil {
		t.Fatal(err)
	}
	if got := list(t, s, ""); len(got) != 0 {
		t.Errorf("List after Delete = %q", got)
	}
}

func testCanceled(t *testing.T, s blob.Store) {
	put(t, s, "cam1/a.jpg", []byte("a"))
	put(t, s, "cam1/b.jpg", []byte("b"))
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	ops := map[string]func() error{
		"Put":    func() error { return s.Put(canceled, "cam1/c.jpg", []byte("c"), "") },
		"Get":    func() error { _, err := s.Get(canceled, "cam1/a.jpg"); return err },
		"Stat":   func() error { _, err := s.Stat(canceled, "cam1/a.jpg"); return err },
		"Delete": func() error { return s.Delete(canceled, "cam1/a.jpg") },
		"List":   func() error { return s.List(canceled, "", func(blob.Info) bool { return true }) },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error = %v, want context.Canceled", name, err)
		}
	}
	// Cancelled while listing: List stops and says so.
	mid, cancelMid := context.WithCancel(context.Background())
	defer cancelMid()
	n := 0
	err := s.List(mid, "cam1/", func(blob.Info) bool { n++; cancelMid(); return true })
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("List cancelled mid-way: %d calls, error %v; want 1 call and context.Canceled", n, err)
	}
	if got := get(t, s, "cam1/a.jpg"); string(got) != "a" {
		t.Errorf("object after cancelled Delete = %q, want it kept", got)
	}
	if _, err := s.Stat(ctx(t), "cam1/c.jpg"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("cancelled Put stored the object (Stat error %v)", err)
	}
}
