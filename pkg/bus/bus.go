// Package bus is the NATS JetStream side of Stills (DESIGN §2): subjects,
// streams, the thumbnailer consumer and the one place they are declared.
// Services connect with Connect and call EnsureStreams at start; both are
// idempotent so any replica may start first.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stills-video/stills/pkg/streamname"
)

// Stream and consumer names.
const (
	StreamSegments = "SEGMENTS"
	StreamThumbs   = "THUMBS"
	StreamDead     = "DEAD"

	ConsumerThumbnailer = "thumbnailer"
)

// Subject prefixes.
const (
	segmentPrefix = "stills.segment."
	storedPrefix  = "stills.stored."
	deadPrefix    = "stills.dead."

	// SubjectRender is the on-demand render service (request/reply).
	SubjectRender = "stills.render"
	// QueueRender is the queue group of the render service.
	QueueRender = "thumbnailer"
)

// Header names.
const (
	// HeaderTimeMs carries the keyframe time on every event, so consumers can
	// route without decoding the payload.
	HeaderTimeMs = "Stills-Time-Ms"
)

// SegmentSubject is stills.segment.<token(stream)>.
func SegmentSubject(stream string) string { return segmentPrefix + streamname.Token(stream) }

// StoredSubject is stills.stored.<token(stream)>.
func StoredSubject(stream string) string { return storedPrefix + streamname.Token(stream) }

// DeadSubject is stills.dead.<token(stream)>.
func DeadSubject(stream string) string { return deadPrefix + streamname.Token(stream) }

// StreamFromSubject returns the stream name a segment, stored or dead
// subject is about.
func StreamFromSubject(subject string) (string, error) {
	for _, p := range []string{segmentPrefix, storedPrefix, deadPrefix} {
		if tok, ok := strings.CutPrefix(subject, p); ok {
			return streamname.FromToken(tok)
		}
	}
	return "", fmt.Errorf("bus: subject %q is not a stills event subject", subject)
}

// MsgID is the JetStream dedup id of a segment: stream + keyframe time.
func MsgID(stream string, timeMs int64) string {
	return stream + "@" + strconv.FormatInt(timeMs, 10)
}

// Options tune the streams. Zero values take the defaults.
type Options struct {
	// MaxMsgSize of SEGMENTS, bytes (the keyframe limit); default 8 MiB.
	MaxMsgSize int32
	// SegmentsMaxAge: an event older than this is no longer worth a
	// thumbnail; default 10m.
	SegmentsMaxAge time.Duration
	// ThumbsMaxAge: the longest DVR retention; default 48h.
	ThumbsMaxAge time.Duration
	// Replicas of each stream (1 on one server, 3 in a cluster).
	Replicas int
}

func (o Options) withDefaults() Options {
	if o.MaxMsgSize == 0 {
		o.MaxMsgSize = 8 << 20
	}
	if o.SegmentsMaxAge == 0 {
		o.SegmentsMaxAge = 10 * time.Minute
	}
	if o.ThumbsMaxAge == 0 {
		o.ThumbsMaxAge = 48 * time.Hour
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	return o
}

// Connect dials url with reconnects forever and a name for monitoring.
func Connect(url, name string, log *slog.Logger) (*nats.Conn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrl()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("bus: connect %s: %w", url, err)
	}
	return nc, nil
}

// JetStream returns a JetStream context with a capped async publish window
// (DESIGN §5: the default 4,000 overflows the server with 100 KB events).
func JetStream(nc *nats.Conn) (jetstream.JetStream, error) {
	return jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
}

// EnsureStreams creates or updates SEGMENTS, THUMBS and DEAD.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o Options) error {
	o = o.withDefaults()
	for _, cfg := range []jetstream.StreamConfig{
		{
			Name:        StreamSegments,
			Description: "segment-start keyframes waiting for a thumbnailer",
			Subjects:    []string{segmentPrefix + ">"},
			Retention:   jetstream.WorkQueuePolicy,
			MaxAge:      o.SegmentsMaxAge,
			MaxMsgSize:  o.MaxMsgSize,
			Duplicates:  2 * time.Minute,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			Discard:     jetstream.DiscardOld,
		},
		{
			Name:        StreamThumbs,
			Description: "stored thumbnails; the gateway index is a view of this stream",
			Subjects:    []string{storedPrefix + ">"},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      o.ThumbsMaxAge,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
		},
		{
			Name:        StreamDead,
			Description: "events terminated by a thumbnailer, with the reason",
			Subjects:    []string{deadPrefix + ">"},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      7 * 24 * time.Hour,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
		},
	} {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("bus: stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// ThumbnailerBackoff is the redelivery schedule of the thumbnailer
// consumer; its length bounds MaxDeliver.
var ThumbnailerBackoff = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 20 * time.Second,
	30 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second,
}

// ThumbnailerConsumer creates or updates the durable pull consumer shared
// by every thumbnailer worker.
func ThumbnailerConsumer(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	c, err := js.CreateOrUpdateConsumer(ctx, StreamSegments, jetstream.ConsumerConfig{
		Durable:       ConsumerThumbnailer,
		Description:   "thumbnail workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    len(ThumbnailerBackoff) + 1,
		BackOff:       ThumbnailerBackoff,
		MaxAckPending: 1024,
		FilterSubject: segmentPrefix + ">",
	})
	if err != nil {
		return nil, fmt.Errorf("bus: consumer %s: %w", ConsumerThumbnailer, err)
	}
	return c, nil
}

// ErrTooLarge is returned for an event over the stream's size limit.
var ErrTooLarge = errors.New("bus: event larger than the maximum message size")
