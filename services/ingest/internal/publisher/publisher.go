// Package publisher turns segments into SegmentStarted events on JetStream
// (DESIGN §2): one message per segment on stills.segment.<stream>, deduped
// by stream + keyframe time. Publishes are asynchronous within the capped
// window of bus.JetStream; a watcher checks every acknowledgement and
// retries failures a bounded number of times.
package publisher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/config"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/ingest/internal/segmenter"
)

// HeaderIngest names the ingest instance that published an event.
const HeaderIngest = "Stills-Ingest"

// ErrClosed is a Publish after Close.
var ErrClosed = errors.New("publisher: closed")

// Config of a Publisher. Zero values take the defaults.
type Config struct {
	// MaxEventBytes: larger events are refused (bus.ErrTooLarge).
	MaxEventBytes int
	// Retries after a failed publish (default 3), with back-off starting
	// at RetryWait (default 200 ms) and doubling.
	Retries   int
	RetryWait time.Duration
	// AckWait bounds the wait for one acknowledgement (default 10 s).
	AckWait time.Duration
	// Window is the number of publishes awaiting their ack (default 256,
	// the bus.JetStream cap); Publish blocks when it is full.
	Window int
	// OnResult, if set, is called once per published segment, from the
	// watcher goroutine, with nil once JetStream has it or the final error.
	OnResult func(stream string, timeMs int64, err error)
	// Instance, when set, goes in the HeaderIngest header of every event.
	Instance   string
	Log        *slog.Logger
	Registerer prometheus.Registerer
}

// Publisher publishes segments. Run the watcher with Run; Close stops
// intake and lets Run drain.
type Publisher struct {
	cfg Config
	js  jetstream.JetStream
	m   *metrics

	mu      sync.RWMutex // guards closed against sends on pending
	closed  bool
	pending chan pending
}

type pending struct {
	msg    *nats.Msg
	fut    jetstream.PubAckFuture
	err    error // PublishMsgAsync failed: retry straight away
	stream string
	timeMs int64
}

// New returns a publisher; js should come from bus.JetStream.
func New(cfg Config, js jetstream.JetStream) (*Publisher, error) {
	if cfg.MaxEventBytes <= 0 {
		return nil, fmt.Errorf("publisher: MaxEventBytes must be positive")
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.RetryWait == 0 {
		cfg.RetryWait = 200 * time.Millisecond
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = 10 * time.Second
	}
	if cfg.Window == 0 {
		cfg.Window = 256
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.OnResult == nil {
		cfg.OnResult = func(string, int64, error) {}
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Publisher{cfg: cfg, js: js, m: m, pending: make(chan pending, cfg.Window)}, nil
}

// Event builds the SegmentStarted event of seg.
func Event(stream config.Stream, seg segmenter.Segment) (*stillsv1.SegmentStarted, error) {
	key, err := h264.AnnexB(seg.Keyframe).Marshal()
	if err != nil {
		return nil, fmt.Errorf("publisher: keyframe: %w", err)
	}
	return &stillsv1.SegmentStarted{
		Stream:        stream.Name,
		TimeMs:        seg.Time.UnixMilli(),
		Sequence:      seg.Sequence,
		Codec:         seg.Codec,
		Width:         uint32(seg.Width),
		Height:        uint32(seg.Height),
		SarNum:        uint32(seg.SarNum),
		SarDen:        uint32(seg.SarDen),
		ParameterSets: seg.ParamSets,
		Keyframe:      key,
		Settings:      stream.Settings(),
	}, nil
}

// Publish sends the event of seg asynchronously; the result comes to
// OnResult. An event over MaxEventBytes is refused with bus.ErrTooLarge
// (logged and counted). It blocks while the window is full.
func (p *Publisher) Publish(ctx context.Context, stream config.Stream, seg segmenter.Segment) error {
	ev, err := Event(stream, seg)
	if err != nil {
		return err
	}
	data, err := proto.Marshal(ev)
	if err != nil {
		return fmt.Errorf("publisher: marshal: %w", err)
	}
	if len(data) > p.cfg.MaxEventBytes {
		p.m.refused.WithLabelValues("too_large").Inc()
		p.cfg.Log.Error("segment refused: event too large", "stream", stream.Name,
			"time_ms", ev.TimeMs, "bytes", len(data), "max_bytes", p.cfg.MaxEventBytes)
		return fmt.Errorf("publisher: %s at %d: %d bytes: %w", stream.Name, ev.TimeMs, len(data), bus.ErrTooLarge)
	}
	msg := &nats.Msg{
		Subject: bus.SegmentSubject(stream.Name),
		Data:    data,
		Header:  nats.Header{bus.HeaderTimeMs: []string{strconv.FormatInt(ev.TimeMs, 10)}},
	}
	if p.cfg.Instance != "" {
		msg.Header.Set(HeaderIngest, p.cfg.Instance)
	}
	pd := pending{msg: msg, stream: stream.Name, timeMs: ev.TimeMs}

	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	pd.fut, pd.err = p.js.PublishMsgAsync(msg, jetstream.WithMsgID(bus.MsgID(stream.Name, ev.TimeMs)))
	select {
	case p.pending <- pd:
		return nil
	case <-ctx.Done():
		// Already sent (or failed): the ack can no longer be watched.
		p.m.errors.WithLabelValues(stream.Name).Inc()
		return fmt.Errorf("publisher: %w", ctx.Err())
	}
}

// Close stops intake; Run returns once every pending ack is checked.
func (p *Publisher) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.pending)
	}
}

// Run checks every acknowledgement, retrying failures, until Close has
// been called and the window is drained. When ctx ends, what is still
// pending is reported as failed without waiting.
func (p *Publisher) Run(ctx context.Context) {
	for pd := range p.pending {
		err := pd.err
		if err == nil && ctx.Err() == nil {
			err = p.await(ctx, pd.fut)
		} else if err == nil {
			err = ctx.Err()
		}
		if err != nil && ctx.Err() == nil {
			err = p.retry(ctx, pd, err)
		}
		if err != nil {
			p.m.errors.WithLabelValues(pd.stream).Inc()
			p.cfg.Log.Error("segment not published", "stream", pd.stream, "time_ms", pd.timeMs, "err", err)
		} else {
			p.m.published.WithLabelValues(pd.stream).Inc()
		}
		p.cfg.OnResult(pd.stream, pd.timeMs, err)
	}
}

func (p *Publisher) await(ctx context.Context, fut jetstream.PubAckFuture) error {
	t := time.NewTimer(p.cfg.AckWait)
	defer t.Stop()
	select {
	case <-fut.Ok():
		return nil
	case err := <-fut.Err():
		return err
	case <-t.C:
		return fmt.Errorf("publisher: no ack after %v", p.cfg.AckWait)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retry publishes pd again synchronously (the same message id: JetStream
// drops the copy if the first one did land).
func (p *Publisher) retry(ctx context.Context, pd pending, err error) error {
	wait := p.cfg.RetryWait
	for i := 0; i < p.cfg.Retries; i++ {
		p.m.retries.WithLabelValues(pd.stream).Inc()
		p.cfg.Log.Warn("segment publish failed, retrying", "stream", pd.stream, "time_ms", pd.timeMs,
			"attempt", i+1, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("publisher: %w (last: %v)", ctx.Err(), err)
		case <-t.C:
		}
		wait *= 2
		actx, cancel := context.WithTimeout(ctx, p.cfg.AckWait)
		_, err = p.js.PublishMsg(actx, pd.msg, jetstream.WithMsgID(bus.MsgID(pd.stream, pd.timeMs)))
		cancel()
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("publisher: %d retries: %w", p.cfg.Retries, err)
}

// Forget drops the per-stream metric series of a removed stream.
func (p *Publisher) Forget(stream string) {
	p.m.published.DeleteLabelValues(stream)
	p.m.errors.DeleteLabelValues(stream)
	p.m.retries.DeleteLabelValues(stream)
}
