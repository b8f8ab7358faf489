// Package worker handles one SegmentStarted event at a time: validate,
// mux the one-frame MP4, decode and encode the JPEGs, store the objects,
// publish ThumbnailStored, then ack. Failures either terminate the event
// with a dead-letter record (bad input: retrying cannot help) or ask for
// redelivery with back-off (storage, bus: retrying will).
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/layout"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer/internal/mp4"
	"github.com/stills-video/stills/services/thumbnailer/internal/snapshot"
)

// Config of a Worker.
type Config struct {
	Log            *slog.Logger
	Metrics        *Metrics // shared by the workers of a service; required
	SkipLoopFilter bool
	// Backoff is the redelivery delay after the delivered-th failed
	// attempt; nil = bus.ThumbnailerBackoff.
	Backoff func(delivered uint64) time.Duration
	// MaxDeliver is the consumer's MaxDeliver: on that delivery a transient
	// failure terminates the event with a dead letter instead of a Nak the
	// server would drop silently. 0 = len(bus.ThumbnailerBackoff)+1.
	MaxDeliver uint64
	// ProgressEvery: while an event is being handled, tell the server it
	// is still in progress (msg.InProgress, which restarts AckWait) this
	// often; 0 = 5s. The service sets it to a third of the AckWait.
	ProgressEvery time.Duration
	// Snapshot fetches camera snapshots for streams with a snapshot URL;
	// nil = such streams are decoded like the others.
	Snapshot *snapshot.Fetcher
}

// DefaultBackoff follows bus.ThumbnailerBackoff, its last step repeating.
func DefaultBackoff(delivered uint64) time.Duration {
	b := bus.ThumbnailerBackoff
	i := int(min(delivered, uint64(len(b)))) - 1
	return b[max(i, 0)]
}

// Worker handles events one at a time; it owns a Renderer (a decoder per
// codec and a JPEG encoder). Not safe for concurrent use: run one per
// goroutine.
type Worker struct {
	cfg   Config
	log   *slog.Logger
	js    jetstream.JetStream
	store blob.Store
	r     *Renderer
}

// New makes a Worker publishing on js and writing to store.
func New(cfg Config, js jetstream.JetStream, store blob.Store) (*Worker, error) {
	if cfg.Metrics == nil {
		return nil, errors.New("worker: Config.Metrics is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxDeliver == 0 {
		cfg.MaxDeliver = uint64(len(bus.ThumbnailerBackoff) + 1)
	}
	if cfg.ProgressEvery == 0 {
		cfg.ProgressEvery = 5 * time.Second
	}
	return &Worker{cfg: cfg, log: cfg.Log, js: js, store: store, r: NewRenderer(cfg.SkipLoopFilter)}, nil
}

// Close frees the libav state.
func (w *Worker) Close() { w.r.Close() }

// failure is how a job went wrong: terminal (reason set) or transient.
type failure struct {
	reason string // termination reason label; "" = transient
	kind   string // error kind label when transient
	err    error
}

// Job is an event whose CPU work (decode, JPEG, MP4) is done and whose
// I/O (store, publish, settle) is not. Prepare makes it, Finish ends it;
// the worker's next Prepare may run while Finish writes, so the decoder
// never waits on storage or the bus.
type Job struct {
	msg    jetstream.Msg
	meta   *jetstream.MsgMetadata
	ev     *stillsv1.SegmentStarted
	start  time.Time
	stop   func() // ends the InProgress keep-alive
	t      time.Time
	movie  []byte
	jpegs  []JPEG
	source string
	fail   *failure
}

// Handle processes msg and settles it: Ack, NakWithDelay or Term.
func (w *Worker) Handle(ctx context.Context, msg jetstream.Msg) {
	if j := w.Prepare(ctx, msg); j != nil {
		w.Finish(ctx, j)
	}
}

// Prepare does the CPU part of msg (decode, JPEGs, MP4) with the worker's
// decoder. It returns nil for a message that cannot be settled (not from
// JetStream). Not safe for concurrent use with another Prepare.
func (w *Worker) Prepare(ctx context.Context, msg jetstream.Msg) *Job {
	j := &Job{msg: msg, start: time.Now(), ev: &stillsv1.SegmentStarted{}}
	meta, err := msg.Metadata()
	if err != nil {
		// Not a JetStream message: nothing to settle.
		w.log.Error("message without metadata", "subject", msg.Subject(), "err", err)
		return nil
	}
	j.meta = meta
	j.stop = w.keepAlive(msg)
	j.fail = w.render(ctx, j)
	return j
}

// Finish stores and publishes a prepared job, then settles its message.
// It may run concurrently with Prepare (it touches no libav state).
func (w *Worker) Finish(ctx context.Context, j *Job) {
	f := j.fail
	if f == nil {
		f = w.write(ctx, j)
	}
	j.stop()
	msg, meta, ev := j.msg, j.meta, j.ev
	switch {
	case f == nil:
		if err := msg.Ack(); err != nil {
			// The objects and the record are written; a redelivery rewrites
			// the same keys and is deduplicated on THUMBS.
			w.cfg.Metrics.error(KindAck)
			w.log.Warn("ack", "stream", ev.GetStream(), "err", err)
		}
		w.cfg.Metrics.thumbnails.Inc()
		w.cfg.Metrics.stored.Add(1)
		w.cfg.Metrics.duration.Observe(time.Since(j.start).Seconds())
	case f.reason != "":
		w.terminate(ctx, msg, meta, ev, f.reason, f.err)
	case meta.NumDelivered >= w.cfg.MaxDeliver:
		w.cfg.Metrics.error(f.kind)
		w.terminate(ctx, msg, meta, ev, ReasonRetriesExceeded, f.err)
	default:
		w.cfg.Metrics.error(f.kind)
		w.nak(msg, meta, ev, f.err)
	}
}

// render is the CPU stage: parse, validate, mux, decode and encode.
func (w *Worker) render(ctx context.Context, j *Job) *failure {
	msg, ev := j.msg, j.ev
	if err := proto.Unmarshal(msg.Data(), ev); err != nil {
		return &failure{reason: ReasonInvalidEvent, err: fmt.Errorf("%w: protobuf: %v", ErrInvalidEvent, err)}
	}
	if err := validate(ev, msg.Subject()); err != nil {
		return &failure{reason: ReasonInvalidEvent, err: err}
	}
	j.t = layout.FromMillis(ev.GetTimeMs())
	movie, err := mp4.Mux(ev.GetCodec(), ev.GetKeyframe(), ev.GetParameterSets())
	if err != nil {
		return &failure{reason: ReasonInvalidKeyframe, err: err}
	}
	j.movie = movie
	var f *failure
	j.jpegs, j.source, f = w.jpegs(ctx, ev, j.t)
	return f
}

// write is the I/O stage: write the objects, then publish the record.
func (w *Worker) write(ctx context.Context, j *Job) *failure {
	ev := j.ev
	rec := &stillsv1.ThumbnailStored{Stream: ev.GetStream(), TimeMs: ev.GetTimeMs(), Codec: ev.GetCodec(), Source: j.source}
	put := func(key string, data []byte, ctype string) error {
		if err := w.store.Put(ctx, key, data, ctype); err != nil {
			return fmt.Errorf("worker: put %s: %w", key, err)
		}
		return nil
	}
	mp4Key := layout.MP4(ev.GetStream(), j.t)
	if err := put(mp4Key, j.movie, "video/mp4"); err != nil {
		return &failure{kind: KindStorage, err: err}
	}
	rec.Mp4 = &stillsv1.StoredObject{Key: mp4Key, Bytes: int64(len(j.movie)), Width: ev.GetWidth(), Height: ev.GetHeight(), ContentType: "video/mp4"}
	for _, jp := range j.jpegs {
		if err := put(jp.Key, jp.Data, "image/jpeg"); err != nil {
			return &failure{kind: KindStorage, err: err}
		}
		rec.Jpegs = append(rec.Jpegs, &stillsv1.StoredObject{
			Key: jp.Key, Bytes: int64(len(jp.Data)), Width: uint32(jp.Width), Height: uint32(jp.Height), ContentType: "image/jpeg",
		})
	}
	if err := Publish(ctx, w.js, bus.StoredSubject(ev.GetStream()), ev.GetTimeMs(), bus.MsgID(ev.GetStream(), ev.GetTimeMs()), rec); err != nil {
		return &failure{kind: KindPublish, err: err}
	}
	w.log.Debug("stored", "stream", ev.GetStream(), "time_ms", ev.GetTimeMs(), "jpegs", len(j.jpegs), "delivered", j.meta.NumDelivered)
	return nil
}

// Publish sends m on subject with the time header and a dedup id, and
// waits for the stream's ack.
func Publish(ctx context.Context, js jetstream.JetStream, subject string, timeMs int64, id string, m proto.Message) error {
	data, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("worker: marshal: %w", err)
	}
	out := nats.NewMsg(subject)
	out.Data = data
	out.Header.Set(bus.HeaderTimeMs, strconv.FormatInt(timeMs, 10))
	if _, err := js.PublishMsg(ctx, out, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("worker: publish %s: %w", subject, err)
	}
	return nil
}

func (w *Worker) nak(msg jetstream.Msg, meta *jetstream.MsgMetadata, ev *stillsv1.SegmentStarted, cause error) {
	delay := w.cfg.Backoff(meta.NumDelivered)
	w.log.Warn("retrying", "stream", ev.GetStream(), "time_ms", ev.GetTimeMs(), "delivered", meta.NumDelivered, "delay", delay, "err", cause)
	w.cfg.Metrics.naks.Add(1)
	if err := msg.NakWithDelay(delay); err != nil {
		// AckWait expiry redelivers it anyway.
		w.log.Warn("nak", "stream", ev.GetStream(), "err", err)
	}
}

// terminate records a dead letter and terminates msg. When the record
// cannot be published the event is redelivered instead, so it is never
// dropped without a trace.
func (w *Worker) terminate(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, ev *stillsv1.SegmentStarted, reason string, cause error) {
	stream := deadStream(msg.Subject())
	text := reason + ": " + cause.Error()
	dl := &stillsv1.DeadLetter{
		Stream: stream, TimeMs: ev.GetTimeMs(), Reason: text,
		Subject: msg.Subject(), StreamSequence: meta.Sequence.Stream,
	}
	id := "dead:" + strconv.FormatUint(meta.Sequence.Stream, 10)
	if err := Publish(ctx, w.js, bus.DeadSubject(stream), ev.GetTimeMs(), id, dl); err != nil {
		w.cfg.Metrics.error(KindPublish)
		w.nak(msg, meta, ev, err)
		return
	}
	w.cfg.Metrics.terminate(reason)
	w.log.Warn("terminated", "stream", stream, "time_ms", ev.GetTimeMs(), "reason", text)
	if err := msg.TermWithReason(text); err != nil {
		w.cfg.Metrics.error(KindAck)
		w.log.Warn("term", "stream", stream, "err", err)
	}
}

// deadStream is the stream a dead letter is filed under: the one its
// subject names (validate makes the event agree with it), else "invalid".
func deadStream(subject string) string {
	if s, err := bus.StreamFromSubject(subject); err == nil {
		return s
	}
	return "invalid"
}
