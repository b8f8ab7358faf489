package blob_test

import (
	"testing"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/testutil"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := testutil.Context(t)
	s3cfg := testutil.StartS3(t)
	if s, err := blob.Open(ctx, config.Storage{Dir: t.TempDir(), S3: &s3cfg}); err != nil {
		t.Errorf("Open(s3) = %v", err)
	} else if _, ok := s.(*blob.S3); !ok {
		t.Errorf("Open with an s3 block = %T, want *blob.S3", s)
	}
	if s, err := blob.Open(ctx, config.Storage{Dir: t.TempDir()}); err != nil {
		t.Errorf("Open(dir) = %v", err)
	} else if _, ok := s.(*blob.Local); !ok {
		t.Errorf("Open without s3 = %T, want *blob.Local", s)
	}
	if _, err := blob.Open(ctx, config.Storage{}); err == nil {
		t.Error("Open of an empty config succeeded")
	}
}
