// Package blob is the object store behind Stills: one small interface with
// two implementations, a local directory (one-box) and S3 (minio-go).
// Both pass the same contract suite in blobtest.
package blob

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Get and Stat for a missing key.
var ErrNotFound = errors.New("blob: not found")

// ErrInvalidKey is returned for a key that is empty, absolute, or holds
// "." / ".." segments or backslashes.
var ErrInvalidKey = errors.New("blob: invalid key")

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is what services need from storage. Keys are '/'-separated
// (pkg/layout). Put is atomic (readers see the old or the new bytes, never a
// partial object) and idempotent.
type Store interface {
	Put(ctx context.Context, key string, data []byte, contentType string) error
	Get(ctx context.Context, key string) ([]byte, error)
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes keys; missing keys are not an error.
	Delete(ctx context.Context, keys ...string) error
	// List calls fn for every key under prefix in lexical order, until fn
	// returns false.
	List(ctx context.Context, prefix string, fn func(Info) bool) error
}
