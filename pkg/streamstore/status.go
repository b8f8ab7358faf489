package streamstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stills-video/stills/pkg/streamname"
)

// Stream states.
const (
	StateStarting = "starting"
	StateOnline   = "online"
	StateOffline  = "offline"
	StateError    = "error"
)

// Status is what the ingest pulling a stream reports about it.
type Status struct {
	Name           string    `json:"name"`
	URL            string    `json:"url"` // password redacted
	Status         string    `json:"status"`
	LastKeyframeAt time.Time `json:"last_keyframe_at,omitzero"`
	Segments       uint64    `json:"segments_total"`
	Errors         uint64    `json:"errors_total"`
	Error          string    `json:"error,omitempty"`
	Ingest         string    `json:"ingest"` // the ingest instance holding the stream
	UpdatedAt      time.Time `json:"updated_at"`
}

// PutStatus records s (keyed by s.Name).
func (st *Store) PutStatus(ctx context.Context, s Status) error {
	if err := streamname.Validate(s.Name); err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if _, err := st.status.Put(ctx, streamname.Token(s.Name), b); err != nil {
		return fmt.Errorf("streamstore: put status %s: %w", s.Name, err)
	}
	return nil
}

// DeleteStatus forgets a stream's status (stream removed).
func (st *Store) DeleteStatus(ctx context.Context, name string) error {
	err := st.status.Delete(ctx, streamname.Token(name))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("streamstore: delete status %s: %w", name, err)
	}
	return nil
}

// Statuses returns every known status by stream name.
func (st *Store) Statuses(ctx context.Context) (map[string]Status, error) {
	out := map[string]Status{}
	keys, err := st.keys(ctx, BucketStatus)
	if err != nil {
		return nil, err
	}
	for _, key := range keys {
		e, err := st.status.Get(ctx, key)
		if err != nil {
			continue // expired or deleted meanwhile
		}
		var s Status
		if json.Unmarshal(e.Value(), &s) == nil && s.Name != "" {
			out[s.Name] = s
		}
	}
	return out, nil
}
