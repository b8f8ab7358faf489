package blob_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/blob/blobtest"
	"github.com/stills-video/stills/pkg/testutil"
)

func TestLocalContract(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := blob.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir() != dir {
		t.Errorf("Dir = %q, want %q", s.Dir(), dir)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("store dir not created: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	testutil.Must(t, os.WriteFile(file, nil, 0o644))
	for _, bad := range []string{"", file} {
		if _, err := blob.NewLocal(bad); err == nil {
			t.Errorf("NewLocal(%q) succeeded", bad)
		}
	}
}

func TestLocalLayout(t *testing.T) {
	ctx := testutil.Context(t)
	s, err := blob.NewLocal(t.TempDir())
	testutil.Must(t, err)
	s.Sync = true
	testutil.Must(t, s.Put(ctx, "cam1/2024/01/02/03/04/05.jpg", []byte("jpeg"), "image/jpeg"))
	p := filepath.Join(s.Dir(), "cam1", "2024", "01", "02", "03", "04", "05.jpg")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("object not at its path: %v", err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(filepath.Dir(p))
	testutil.Must(t, err)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries (temporary files left?)", len(entries))
	}
	// Delete prunes the emptied directories but keeps the root.
	testutil.Must(t, s.Delete(ctx, "cam1/2024/01/02/03/04/05.jpg"))
	if _, err := os.Stat(filepath.Join(s.Dir(), "cam1")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty dirs kept after Delete: %v", err)
	}
	if _, err := os.Stat(s.Dir()); err != nil {
		t.Errorf("root removed: %v", err)
	}
}

func TestLocalErrors(t *testing.T) {
	ctx := testutil.Context(t)
	s, err := blob.NewLocal(t.TempDir())
	testutil.Must(t, err)
	testutil.Must(t, s.Put(ctx, "cam1/file", []byte("x"), ""))
	// A key below an object cannot be stored (a directory is needed there).
	if err := s.Put(ctx, "cam1/file/below.jpg", []byte("x"), ""); err == nil || errors.Is(err, blob.ErrInvalidKey) {
		t.Errorf("Put below a file: %v, want an I/O error", err)
	}
	// Deleting a key that is only a prefix of others deletes nothing.
	testutil.Must(t, s.Put(ctx, "cam2/a/b.jpg", []byte("x"), ""))
	testutil.Must(t, s.Delete(ctx, "cam2/a"))
	if _, err := s.Stat(ctx, "cam2/a/b.jpg"); err != nil {
		t.Errorf("Delete of a prefix removed the object below: %v", err)
	}
	// Temporary files of interrupted puts are not keys.
	testutil.Must(t, os.WriteFile(filepath.Join(s.Dir(), "cam2", ".stills-tmp-123"), []byte("partial"), 0o600))
	var keys []string
	testutil.Must(t, s.List(ctx, "cam2/", func(i blob.Info) bool { keys = append(keys, i.Key); return true }))
	if len(keys) != 1 || keys[0] != "cam2/a/b.jpg" {
		t.Errorf("List = %q, want only cam2/a/b.jpg", keys)
	}
	if err := s.Put(ctx, "cam2/.stills-tmp-1", nil, ""); !errors.Is(err, blob.ErrInvalidKey) {
		t.Errorf("Put of a reserved name: %v", err)
	}
	// An unreadable directory is an error, not an empty listing.
	if os.Geteuid() != 0 {
		testutil.Must(t, os.Chmod(filepath.Join(s.Dir(), "cam2"), 0))
		t.Cleanup(func() { os.Chmod(filepath.Join(s.Dir(), "cam2"), 0o755) })
		if err := s.List(ctx, "", func(blob.Info) bool { return true }); err == nil {
			t.Error("List over an unreadable dir succeeded")
		}
	}
}
