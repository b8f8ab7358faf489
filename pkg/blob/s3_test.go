package blob_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/blob/blobtest"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/testutil"
)

func TestS3Contract(t *testing.T) {
	srv := testutil.StartS3Server(t)
	n := 0
	blobtest.Run(t, func(t *testing.T) blob.Store {
		cfg := srv.Config
		n++
		cfg.Bucket = fmt.Sprintf("contract-%d", n)
		s, err := blob.NewS3(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewS3Errors(t *testing.T) {
	t.Parallel()
	ctx := testutil.Context(t)
	good := testutil.StartS3(t)
	wrongKey := good
	wrongKey.SecretKey = "wrong"
	down := good
	down.Endpoint = testutil.FreePortAddr(t)
	tests := []struct {
		name string
		cfg  config.S3
	}{
		{"no endpoint", config.S3{Bucket: "b"}},
		{"no bucket", config.S3{Endpoint: good.Endpoint}},
		{"bad endpoint", config.S3{Endpoint: "http://x/y", Bucket: "b"}},
		{"bad bucket name", config.S3{Endpoint: good.Endpoint, Bucket: "Not_Valid", AccessKey: good.AccessKey, SecretKey: good.SecretKey}},
		{"wrong secret", wrongKey},
		{"nothing listening", down},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := blob.NewS3(ctx, tc.cfg); err == nil {
				t.Error("NewS3 succeeded")
			}
		})
	}
	// Opening an existing bucket works (the second NewS3 finds it).
	for range 2 {
		s, err := blob.NewS3(ctx, good)
		testutil.Must(t, err)
		if s.Bucket() != good.Bucket {
			t.Errorf("Bucket = %q", s.Bucket())
		}
	}
}

// TestS3Outage: while the server is down every call fails (and Get is
// not mistaken for a missing object); afterwards the same store works on.
func TestS3Outage(t *testing.T) {
	t.Parallel()
	ctx, srv, s := startS3Store(t)
	testutil.Must(t, s.Put(ctx, "cam1/a.jpg", []byte("a"), "image/jpeg"))
	srv.Stop()
	if err := s.Put(ctx, "cam1/b.jpg", []byte("b"), "image/jpeg"); err == nil {
		t.Error("Put during outage succeeded")
	}
	_, err := s.Get(ctx, "cam1/a.jpg")
	wantFailure(t, "Get during outage", err)
	_, err = s.Stat(ctx, "cam1/a.jpg")
	wantFailure(t, "Stat during outage", err)
	if err := s.Delete(ctx, "cam1/a.jpg"); err == nil {
		t.Error("Delete during outage succeeded")
	}
	if err := s.List(ctx, "", func(blob.Info) bool { return true }); err == nil {
		t.Error("List during outage succeeded")
	}
	srv.Start()
	got, err := s.Get(ctx, "cam1/a.jpg")
	if err != nil || string(got) != "a" {
		t.Errorf("Get after outage = %q, %v", got, err)
	}
	testutil.Must(t, s.Put(ctx, "cam1/b.jpg", []byte("b"), "image/jpeg"))
}

// TestS3MissingBucket: a bucket removed under a running store makes Get
// fail with an error, not "object not found".
func TestS3MissingBucket(t *testing.T) {
	t.Parallel()
	ctx, srv, s := startS3Store(t)
	testutil.Must(t, os.Remove(filepath.Join(srv.Dir, srv.Config.Bucket)))
	_, err := s.Get(ctx, "cam1/a.jpg")
	wantFailure(t, "Get without bucket", err)
	// (Stat cannot tell: S3 answers a HEAD with a bare 404 either way.)
}

func startS3Store(t *testing.T) (context.Context, *testutil.S3Server, *blob.S3) {
	ctx := testutil.Context(t)
	srv := testutil.StartS3Server(t)
	s, err := blob.NewS3(ctx, srv.Config)
	testutil.Must(t, err)
	return ctx, srv, s
}

// wantFailure checks err is an error other than ErrNotFound.
func wantFailure(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || errors.Is(err, blob.ErrNotFound) {
		t.Errorf("%s = %v, want an error other than ErrNotFound", what, err)
	}
}
