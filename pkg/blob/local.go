package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Local is a Store on a local directory: key "a/b/c.jpg" is the file
// <dir>/a/b/c.jpg. Puts write a temporary file in the target's directory
// and rename it over the key, so readers see old or new bytes, never a
// partial object. Safe for concurrent use, also by several processes.
type Local struct {
	dir string
	// Sync makes Put fsync each file before the rename (durable across a
	// power cut, slower). Off by default: thumbnails can be made again.
	Sync bool
}

var _ Store = (*Local)(nil)

// NewLocal opens (creating it if needed) a store rooted at dir.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: local store needs a directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: local dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("blob: local dir: %w", err)
	}
	return &Local{dir: abs}, nil
}

// Dir is the store's root directory.
func (l *Local) Dir() string { return l.dir }

func (l *Local) path(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(key))
}

// Put stores data under key atomically; contentType is not kept.
func (l *Local) Put(ctx context.Context, key string, data []byte, _ string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	p := l.path(key)
	tmp, err := l.createTemp(filepath.Dir(p))
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := l.fill(tmp, data); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

// createTemp makes a temporary file in dir, creating dir first. A
// concurrent Delete may remove the (empty) dir in between: try again.
func (l *Local) createTemp(dir string) (*os.File, error) {
	var err error
	for range 5 {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		var f *os.File
		if f, err = os.CreateTemp(dir, tmpPrefix+"*"); err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, err
}

func (l *Local) fill(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil && l.Sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Get returns the bytes under key, or ErrNotFound.
func (l *Local) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blob: get %s: %w", key, err)
	}
	data, err := os.ReadFile(l.path(key))
	if err != nil {
		return nil, fmt.Errorf("blob: get %s: %w", key, mapFSErr(err))
	}
	return data, nil
}

// Stat describes the object under key, or returns ErrNotFound.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	fi, err := os.Stat(l.path(key))
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return Info{}, fmt.Errorf("blob: stat %s: %w", key, mapFSErr(err))
	}
	return Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// mapFSErr turns "no such file", "not a directory" (a key below a file)
// and "is a directory" (a key that is only a prefix) into ErrNotFound.
func mapFSErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) {
		return ErrNotFound
	}
	return err
}

// Delete removes keys; missing keys are fine. Directories left empty are
// removed up to the root (best effort).
func (l *Local) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := ValidateKey(k); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("blob: delete: %w", err)
		}
		p := l.path(k)
		fi, err := os.Lstat(p)
		if err != nil || fi.IsDir() {
			continue // missing, or only a prefix of other keys
		}
		if err := os.Remove(p); err != nil && mapFSErr(err) != ErrNotFound {
			return fmt.Errorf("blob: delete %s: %w", k, err)
		}
		l.pruneDirs(filepath.Dir(p))
	}
	return nil
}

func (l *Local) pruneDirs(dir string) {
	for dir != l.dir && strings.HasPrefix(dir, l.dir+string(filepath.Separator)) {
		if os.Remove(dir) != nil { // not empty (or gone): stop
			return
		}
		dir = filepath.Dir(dir)
	}
}

// List calls fn for every key starting with prefix, in lexical (byte)
// order, until fn returns false.
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) bool) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	base := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i+1]
	}
	_, err := l.walk(ctx, base, prefix, fn)
	if err != nil {
		return fmt.Errorf("blob: list %q: %w", prefix, err)
	}
	return nil
}

// walk lists the directory of key prefix base (empty or ending in '/').
// Entries are visited in the order of their keys: a directory "x" sorts
// as "x/", so "cam1-hd/…" comes before "cam1/…" as it does in S3.
// It returns false when fn asked to stop.
func (l *Local) walk(ctx context.Context, base, prefix string, fn func(Info) bool) (bool, error) {
	entries, err := os.ReadDir(l.path(strings.TrimSuffix(base, "/")))
	if err != nil {
		if mapFSErr(err) == ErrNotFound {
			return true, nil
		}
		return false, err
	}
	type entry struct {
		key string
		e   fs.DirEntry
	}
	list := make([]entry, 0, len(entries))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		k := base + e.Name()
		if e.IsDir() {
			k += "/"
		}
		// Keep what is under prefix, and directories prefix goes into.
		if strings.HasPrefix(k, prefix) || (e.IsDir() && strings.HasPrefix(prefix, k)) {
			list = append(list, entry{k, e})
		}
	}
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, it := range list {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if it.e.IsDir() {
			more, err := l.walk(ctx, it.key, prefix, fn)
			if err != nil || !more {
				return more, err
			}
			continue
		}
		fi, err := it.e.Info()
		if err != nil {
			if mapFSErr(err) == ErrNotFound {
				continue // deleted while listing
			}
			return false, err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		if !fn(Info{Key: it.key, Size: fi.Size(), ModTime: fi.ModTime()}) {
			return false, nil
		}
	}
	return true, nil
}
