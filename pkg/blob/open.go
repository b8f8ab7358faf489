package blob

import (
	"context"
	"errors"

	"github.com/stills-video/stills/pkg/config"
)

// Open returns the store the config selects: S3 when storage.s3 is set,
// otherwise the local directory storage.dir.
func Open(ctx context.Context, cfg config.Storage) (Store, error) {
	if cfg.S3 != nil {
		return NewS3(ctx, *cfg.S3)
	}
	if cfg.Dir == "" {
		return nil, errors.New("blob: storage.dir and storage.s3 both empty")
	}
	return NewLocal(cfg.Dir)
}
