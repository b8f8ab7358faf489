package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/stills-video/stills/pkg/config"
)

// s3MaxRetries bounds minio-go's retries per request (its default, 10
// with back-off, hides a storage outage for over a minute; callers such
// as the thumbnailer retry on their own through JetStream redelivery).
const s3MaxRetries = 3

// S3 is a Store on any S3-compatible endpoint (MinIO, versitygw,
// SeaweedFS, AWS) through minio-go. S3 puts are atomic by the protocol.
type S3 struct {
	client *minio.Client
	bucket string
}

var _ Store = (*S3)(nil)

// NewS3 connects to cfg's endpoint and creates the bucket if missing.
func NewS3(ctx context.Context, cfg config.S3) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("blob: s3 needs endpoint and bucket")
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.Secure,
		Region:     cfg.Region,
		MaxRetries: s3MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 client: %w", err)
	}
	s := &S3{client: client, bucket: cfg.Bucket}
	if err := s.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *S3) ensureBucket(ctx context.Context, region string) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: s3 bucket %s: %w", s.bucket, ctxErr(ctx, err))
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "BucketAlreadyOwnedByYou", "BucketAlreadyExists": // a concurrent creator won
		default:
			return fmt.Errorf("blob: s3 create bucket %s: %w", s.bucket, ctxErr(ctx, err))
		}
	}
	return nil
}

// Bucket is the bucket the store writes to.
func (s *S3) Bucket() string { return s.bucket }

// Put stores data under key with the given content type.
func (s *S3) Put(ctx context.Context, key string, data []byte, contentType string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, ctxErr(ctx, err))
	}
	return nil
}

// Get returns the bytes under key, or ErrNotFound.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blob: get %s: %w", key, mapS3Err(ctx, err))
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, fmt.Errorf("blob: get %s: %w", key, mapS3Err(ctx, err))
	}
	return data, nil
}

// Stat describes the object under key, or returns ErrNotFound (also when
// the bucket is gone: S3 answers a HEAD with a bare 404 either way).
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, fmt.Errorf("blob: stat %s: %w", key, mapS3Err(ctx, err))
	}
	return Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// Delete removes keys with multi-object deletes (minio-go sends 1,000
// per request); missing keys are fine.
func (s *S3) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := ValidateKey(k); err != nil {
			return err
		}
	}
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	objects := make(chan minio.ObjectInfo)
	go func() {
		defer close(objects)
		for _, k := range keys {
			select {
			case objects <- minio.ObjectInfo{Key: k}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var errs []error
	for rerr := range s.client.RemoveObjects(ctx, s.bucket, objects, minio.RemoveObjectsOptions{}) {
		if minio.ToErrorResponse(rerr.Err).Code == "NoSuchKey" {
			continue
		}
		if len(errs) < 5 { // enough to tell what went wrong
			errs = append(errs, fmt.Errorf("%s: %w", rerr.ObjectName, rerr.Err))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: delete: %w", err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("blob: delete: %w", errors.Join(errs...))
	}
	return nil
}

// List calls fn for every key starting with prefix, in lexical order,
// until fn returns false.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) bool) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	objs := s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true})
	for oi := range objs {
		if oi.Err != nil {
			return fmt.Errorf("blob: list %q: %w", prefix, ctxErr(ctx, oi.Err))
		}
		if err := ctx.Err(); err != nil { // fn may cancel; a page is buffered
			return fmt.Errorf("blob: list %q: %w", prefix, err)
		}
		if !fn(Info{Key: oi.Key, Size: oi.Size, ModTime: oi.LastModified}) {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: list %q: %w", prefix, err)
	}
	return nil
}

// mapS3Err turns S3's "no such key" into ErrNotFound (a missing bucket
// stays an error: that is a configuration problem, not a missing object).
func mapS3Err(ctx context.Context, err error) error {
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || resp.Code == "NotFound":
		return ErrNotFound
	case resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket":
		return ErrNotFound
	}
	return ctxErr(ctx, err)
}

// ctxErr prefers the context's error when it ended, so callers can test
// errors.Is(err, context.Canceled) whatever minio-go wrapped.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}
