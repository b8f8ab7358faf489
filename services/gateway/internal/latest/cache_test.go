package latest

import (
	"context"
	"errors"
	"testing"

	"github.com/stills-video/stills/pkg/blob"
)

func TestCache(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"c/new.jpg": "new", "c/old.jpg": "old"} {
		if err := store.Put(ctx, k, []byte(v), "image/jpeg"); err != nil {
			t.Fatal(err)
		}
	}
	c := New(store)
	if _, ok := c.Peek("c", JPEG, "c/new.jpg"); ok {
		t.Fatal("empty cache has a blob")
	}
	if b, err := c.Get(ctx, "c", JPEG, "c/new.jpg", 2000); err != nil || string(b.Data) != "new" {
		t.Fatalf("get: %v %v", b, err)
	}
	// An older object is returned but does not replace the newest.
	if b, err := c.Get(ctx, "c", JPEG, "c/old.jpg", 1000); err != nil || string(b.Data) != "old" {
		t.Fatalf("get old: %v %v", b, err)
	}
	if _, ok := c.Peek("c", JPEG, "c/new.jpg"); !ok {
		t.Fatal("newest replaced by an older object")
	}
	if _, ok := c.Peek("c", MP4, "c/new.jpg"); ok {
		t.Fatal("kinds share a slot")
	}
	// Cached bytes answer without the store.
	if err := store.Delete(ctx, "c/new.jpg"); err != nil {
		t.Fatal(err)
	}
	if b, err := c.Get(ctx, "c", JPEG, "c/new.jpg", 2000); err != nil || string(b.Data) != "new" {
		t.Fatalf("cached get: %v %v", b, err)
	}
	if _, err := c.Get(ctx, "c", JPEG, "c/gone.jpg", 3000); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	c.Forget("c")
	if _, ok := c.Peek("c", JPEG, "c/new.jpg"); ok {
		t.Fatal("forgotten stream still cached")
	}
}

func TestCacheSizes(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"c/1.jpg": "big", "c/1-320x180.jpg": "small", "c/2.jpg": "next"} {
		if err := store.Put(ctx, k, []byte(v), "image/jpeg"); err != nil {
			t.Fatal(err)
		}
	}
	c := New(store)
	for _, k := range []string{"c/1.jpg", "c/1-320x180.jpg"} {
		if _, err := c.Get(ctx, "c", JPEG, k, 1000); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"c/1.jpg", "c/1-320x180.jpg"} {
		if _, ok := c.Peek("c", JPEG, k); !ok {
			t.Fatalf("size %s of the newest entry not kept", k)
		}
	}
	if _, err := c.Get(ctx, "c", JPEG, "c/2.jpg", 2000); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Peek("c", JPEG, "c/1-320x180.jpg"); ok {
		t.Fatal("a newer entry must replace every size of the older one")
	}
}
