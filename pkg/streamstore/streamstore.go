// Package streamstore keeps the stream configuration and the per-stream
// status in NATS KV buckets (DESIGN §2, §6). The config file seeds the
// streams bucket; the admin API changes it; every ingest watches it.
// Ingest writes the status bucket; gateways read it for GET /api/streams.
//
// Keys are streamname.Token(name), so any valid stream name (with '/' or
// "..") is a valid KV key. Values are JSON (config.Stream, Status).
package streamstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamname"
)

// Bucket names.
const (
	BucketStreams = "stills_streams"
	BucketStatus  = "stills_status"
)

// ErrNotFound is returned for a stream that is not configured.
var ErrNotFound = errors.New("streamstore: stream not found")

// Options of the buckets.
type Options struct {
	Replicas int
	// StatusTTL: a status not refreshed for this long disappears (its
	// ingest died); default 30s.
	StatusTTL time.Duration
}

// Store is the streams and status buckets.
type Store struct {
	js      jetstream.JetStream
	streams jetstream.KeyValue
	status  jetstream.KeyValue
}

// Open creates or binds both buckets.
func Open(ctx context.Context, js jetstream.JetStream, o Options) (*Store, error) {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.StatusTTL == 0 {
		o.StatusTTL = 30 * time.Second
	}
	streams, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      BucketStreams,
		Description: "stream configuration (config file seed + admin API)",
		History:     5,
		Replicas:    o.Replicas,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("streamstore: bucket %s: %w", BucketStreams, err)
	}
	status, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      BucketStatus,
		Description: "per-stream ingest status",
		History:     1,
		TTL:         o.StatusTTL,
		Replicas:    o.Replicas,
		Storage:     jetstream.MemoryStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("streamstore: bucket %s: %w", BucketStatus, err)
	}
	return &Store{js: js, streams: streams, status: status}, nil
}

// Prepare fills the defaults of s and validates it; the returned error is
// a *config.Error naming the field.
func Prepare(s *config.Stream) error {
	s.FillDefaults()
	return s.Validate()
}

// Put creates or replaces a stream after Prepare.
func (st *Store) Put(ctx context.Context, s config.Stream) error {
	if err := Prepare(&s); err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("streamstore: encode %s: %w", s.Name, err)
	}
	if _, err := st.streams.Put(ctx, streamname.Token(s.Name), b); err != nil {
		return fmt.Errorf("streamstore: put %s: %w", s.Name, err)
	}
	return nil
}

// Get returns one stream or ErrNotFound.
func (st *Store) Get(ctx context.Context, name string) (config.Stream, error) {
	if err := streamname.Validate(name); err != nil {
		return config.Stream{}, err
	}
	e, err := st.streams.Get(ctx, streamname.Token(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return config.Stream{}, ErrNotFound
	}
	if err != nil {
		return config.Stream{}, fmt.Errorf("streamstore: get %s: %w", name, err)
	}
	return decode(e.Value())
}

// Delete removes a stream; ErrNotFound if it was not there.
func (st *Store) Delete(ctx context.Context, name string) error {
	if _, err := st.Get(ctx, name); err != nil {
		return err
	}
	if err := st.streams.Delete(ctx, streamname.Token(name)); err != nil {
		return fmt.Errorf("streamstore: delete %s: %w", name, err)
	}
	return nil
}

// List returns every configured stream, ordered by key.
func (st *Store) List(ctx context.Context) ([]config.Stream, error) {
	keys, err := st.keys(ctx, BucketStreams)
	if err != nil {
		return nil, err
	}
	var out []config.Stream
	for _, key := range keys {
		e, err := st.streams.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("streamstore: get %s: %w", key, err)
		}
		s, err := decode(e.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// keys lists the keys of a bucket from its stream's per-subject state
// (deleted and expired keys included; Get tells them apart). Not the KV
// ListKeys watcher: it waits for as many messages as were pending when it
// started, and never ends when one of them expires (status TTL) or is
// replaced (history) before it is delivered.
func (st *Store) keys(ctx context.Context, bucket string) ([]string, error) {
	return Keys(ctx, st.js, bucket)
}

// Keys lists the keys of any KV bucket the way Store does: from the
// bucket stream's per-subject state, so it ends even while keys expire
// (TTL buckets: statuses, ingest leases). Deleted or expired keys may be
// listed; a Get tells.
func Keys(ctx context.Context, js jetstream.JetStream, bucket string) ([]string, error) {
	s, err := js.Stream(ctx, "KV_"+bucket)
	if err != nil {
		return nil, fmt.Errorf("streamstore: bucket %s: %w", bucket, err)
	}
	prefix := "$KV." + bucket + "."
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(prefix+">"))
	if err != nil {
		return nil, fmt.Errorf("streamstore: list %s: %w", bucket, err)
	}
	keys := make([]string, 0, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		keys = append(keys, strings.TrimPrefix(subj, prefix))
	}
	sort.Strings(keys)
	return keys, nil
}

// Seed writes each stream of the config file that the bucket does not
// hold yet. Streams changed or deleted through the admin API are left as
// the API left them: the bucket, not the file, is the source of truth
// once seeded.
func (st *Store) Seed(ctx context.Context, streams []config.Stream) (created int, err error) {
	for _, s := range streams {
		if err := Prepare(&s); err != nil {
			return created, err
		}
		b, err := json.Marshal(s)
		if err != nil {
			return created, err
		}
		_, err = st.streams.Create(ctx, streamname.Token(s.Name), b)
		switch {
		case err == nil:
			created++
		case errors.Is(err, jetstream.ErrKeyExists):
		default:
			return created, fmt.Errorf("streamstore: seed %s: %w", s.Name, err)
		}
	}
	return created, nil
}

// Watch calls fn with the whole configured set once the current values
// are loaded, and again after every change, until ctx ends. fn runs on
// Watch's goroutine; a slow fn delays later updates but loses none.
func (st *Store) Watch(ctx context.Context, fn func([]config.Stream)) error {
	w, err := st.streams.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("streamstore: watch: %w", err)
	}
	defer w.Stop()
	set := map[string]config.Stream{}
	initial := true
	emit := func() {
		out := make([]config.Stream, 0, len(set))
		for _, s := range set {
			out = append(out, s)
		}
		fn(out)
	}
	// The watcher marks the end of the initial values with nil once it has
	// delivered as many as were pending; a value replaced meanwhile (history)
	// is never delivered and the mark never comes. Do not wait for it
	// forever: after initialWait, what has arrived is the initial set.
	initialWait := time.NewTimer(2 * time.Second)
	defer initialWait.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-initialWait.C:
			if initial {
				initial = false
				emit()
			}
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("streamstore: watch closed")
			}
			if e == nil { // end of the initial values
				if initial {
					initial = false
					emit()
				}
				continue
			}
			switch e.Operation() {
			case jetstream.KeyValuePut:
				s, err := decode(e.Value())
				if err != nil {
					continue // a bad value never stops the watch; Put validates
				}
				set[e.Key()] = s
			default:
				delete(set, e.Key())
			}
			if !initial {
				emit()
			}
		}
	}
}

func decode(b []byte) (config.Stream, error) {
	var s config.Stream
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("streamstore: decode: %w", err)
	}
	if err := Prepare(&s); err != nil {
		return s, fmt.Errorf("streamstore: stored stream invalid: %w", err)
	}
	return s, nil
}

// OpenSeeded is Open followed by Seed with the config file's streams: what
// every binary does at start.
func OpenSeeded(ctx context.Context, js jetstream.JetStream, o Options, streams []config.Stream) (*Store, error) {
	st, err := Open(ctx, js, o)
	if err != nil {
		return nil, err
	}
	if _, err := st.Seed(ctx, streams); err != nil {
		return nil, err
	}
	return st, nil
}
