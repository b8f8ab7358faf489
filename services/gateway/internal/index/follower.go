package index

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/bus"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// maxBatch bounds the messages applied in one bbolt transaction.
const maxBatch = 512

// Follower keeps a DB up to date with the THUMBS stream through an ordered
// consumer that starts after LastApplied.
type Follower struct {
	db        *DB
	js        jetstream.JetStream
	log       *slog.Logger
	onApplied func(res Result, live bool)

	received   atomic.Uint64
	target     atomic.Uint64
	streamLast atomic.Uint64 // THUMBS' last sequence, as last seen
	caughtUp   atomic.Bool
}

// FollowerOptions configure a Follower.
type FollowerOptions struct {
	Log *slog.Logger
	// OnApplied is called after each batch; live is true once the follower
	// had caught up with the stream before the batch.
	OnApplied func(res Result, live bool)
}

// NewFollower returns a follower of THUMBS into db.
func NewFollower(db *DB, js jetstream.JetStream, o FollowerOptions) *Follower {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.OnApplied == nil {
		o.OnApplied = func(Result, bool) {}
	}
	return &Follower{db: db, js: js, log: o.Log.With("component", "index"), onApplied: o.OnApplied}
}

// Received counts the messages delivered since the follower started.
func (f *Follower) Received() uint64 { return f.received.Load() }

// Lag is how many THUMBS messages the index is behind the stream's last
// sequence as last seen (from message metadata and stream info).
func (f *Follower) Lag() uint64 {
	last, applied := f.streamLast.Load(), f.db.LastApplied()
	if last <= applied {
		return 0
	}
	return last - applied
}

func (f *Follower) seen(last uint64) {
	for {
		old := f.streamLast.Load()
		if last <= old || f.streamLast.CompareAndSwap(old, last) {
			return
		}
	}
}

// CaughtUp reports whether every message that was in THUMBS when the
// follower started has been applied.
func (f *Follower) CaughtUp() bool { return f.caughtUp.Load() }

// Run follows THUMBS until ctx ends. A failure to reach the stream is
// retried; it returns nil when ctx ends.
func (f *Follower) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		err := f.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		f.log.Warn("following THUMBS failed, retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (f *Follower) follow(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx) // also releases a blocked Consume callback
	defer cancel()
	stream, err := f.js.Stream(ctx, bus.StreamThumbs)
	if err != nil {
		return fmt.Errorf("index: stream %s: %w", bus.StreamThumbs, err)
	}
	state := stream.CachedInfo().State
	if state.LastSeq < f.db.LastApplied() {
		f.log.Warn("THUMBS is behind the index (stream recreated?), replaying it",
			"stream_last_seq", state.LastSeq, "applied", f.db.LastApplied())
		if err := f.db.ResetApplied(); err != nil {
			return err
		}
	}
	f.target.Store(state.LastSeq)
	f.streamLast.Store(state.LastSeq)
	f.checkCaughtUp(state)

	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if a := f.db.LastApplied(); a > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = a + 1
	}
	cons, err := f.js.OrderedConsumer(ctx, bus.StreamThumbs, cfg)
	if err != nil {
		return fmt.Errorf("index: ordered consumer: %w", err)
	}
	msgs := make(chan jetstream.Msg, maxBatch)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-ctx.Done():
		}
	}, jetstream.PullMaxMessages(maxBatch), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		f.log.Debug("consume", "err", err)
	}))
	if err != nil {
		return fmt.Errorf("index: consume: %w", err)
	}
	defer cc.Stop()
	f.log.Info("following THUMBS", "from_seq", f.db.LastApplied()+1, "stream_last_seq", state.LastSeq)

	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	batch := make([]Message, 0, maxBatch)
	for {
		var m jetstream.Msg
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if !f.CaughtUp() {
				if info, err := stream.Info(ctx); err == nil {
					f.checkCaughtUp(info.State)
				}
			}
			continue
		case m = <-msgs:
		}
		batch = append(batch[:0], f.decode(m))
		pending := pendingAfter(m)
	drain:
		for len(batch) < maxBatch {
			select {
			case m = <-msgs:
				batch = append(batch, f.decode(m))
				pending = pendingAfter(m)
			default:
				break drain
			}
		}
		if err := f.apply(batch, pending); err != nil {
			return err
		}
	}
}

func (f *Follower) apply(batch []Message, pending uint64) error {
	live := f.CaughtUp()
	res, err := f.db.Apply(batch)
	if err != nil {
		return err
	}
	if pending == 0 || f.db.LastApplied() >= f.target.Load() {
		f.markCaughtUp()
	}
	f.onApplied(res, live)
	return nil
}

func (f *Follower) checkCaughtUp(s jetstream.StreamState) {
	if f.db.LastApplied() >= s.LastSeq || s.Msgs == 0 {
		f.markCaughtUp()
	}
}

func (f *Follower) markCaughtUp() {
	if !f.caughtUp.Swap(true) {
		f.log.Info("index caught up", "applied", f.db.LastApplied())
	}
}

func pendingAfter(m jetstream.Msg) uint64 {
	md, err := m.Metadata()
	if err != nil {
		return 1
	}
	return md.NumPending
}

// decode turns a message into an index Message. Anything undecodable or
// inconsistent keeps its sequence (so it is never read again) and no event.
func (f *Follower) decode(m jetstream.Msg) Message {
	f.received.Add(1)
	md, err := m.Metadata()
	if err != nil {
		f.log.Warn("message without metadata", "subject", m.Subject(), "err", err)
		return Message{}
	}
	out := Message{Seq: md.Sequence.Stream}
	f.seen(md.Sequence.Stream + md.NumPending)
	ev := &stillsv1.ThumbnailStored{}
	if err := proto.Unmarshal(m.Data(), ev); err != nil {
		f.log.Warn("undecodable ThumbnailStored", "seq", out.Seq, "err", err)
		return out
	}
	name, err := bus.StreamFromSubject(m.Subject())
	if err != nil || name != ev.GetStream() {
		f.log.Warn("ThumbnailStored on a subject of another stream", "seq", out.Seq,
			"subject", m.Subject(), "stream", ev.GetStream(), "err", err)
		return out
	}
	out.Event = ev
	return out
}
