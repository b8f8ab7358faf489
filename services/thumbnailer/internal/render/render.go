// Package render is the on-demand render service: NATS request/reply on
// bus.SubjectRender (queue group bus.QueueRender), answering a
// RenderRequest with the JPEG(s) of a stored one-frame MP4. It loads the
// MP4, decodes its keyframe, encodes the JPEGs at the settings' sizes,
// stores them at the canonical keys, publishes a ThumbnailStored (source
// "render") so the gateway index learns them, and replies.
package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/pkg/streamname"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer/internal/libav"
	"github.com/stills-video/stills/services/thumbnailer/internal/mp4"
	"github.com/stills-video/stills/services/thumbnailer/internal/worker"
)

// DefaultTimeout bounds one request, queueing for a renderer included.
const DefaultTimeout = 10 * time.Second

// Config of the render service.
type Config struct {
	Log            *slog.Logger
	Workers        int           // concurrent renders (each with its own decoder); required > 0
	Timeout        time.Duration // per request; 0 = DefaultTimeout
	SkipLoopFilter bool
}

// Service answers render requests.
type Service struct {
	cfg    Config
	log    *slog.Logger
	js     jetstream.JetStream
	store  blob.Store
	pool   chan *worker.Renderer // the semaphore: a renderer per slot
	flight flight
	wg     sync.WaitGroup
	ready  chan struct{}
}

// New makes the service; Serve subscribes.
func New(cfg Config, js jetstream.JetStream, store blob.Store) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.Workers = max(cfg.Workers, 1)
	s := &Service{cfg: cfg, log: cfg.Log.With("component", "render"), js: js, store: store,
		pool: make(chan *worker.Renderer, cfg.Workers), ready: make(chan struct{})}
	for range cfg.Workers {
		s.pool <- worker.NewRenderer(cfg.SkipLoopFilter)
	}
	return s
}

// Serve answers requests on bus.SubjectRender in queue group
// bus.QueueRender until ctx ends, then stops taking requests, waits for
// those in hand and frees the renderers.
func (s *Service) Serve(ctx context.Context) error {
	sub, err := s.js.Conn().QueueSubscribe(bus.SubjectRender, bus.QueueRender, func(m *nats.Msg) {
		s.wg.Go(func() { s.answer(ctx, m) })
	})
	if err != nil {
		return fmt.Errorf("render: subscribe: %w", err)
	}
	closed := make(chan struct{})
	sub.SetClosedHandler(func(string) { close(closed) })
	if err := s.js.Conn().FlushTimeout(s.cfg.Timeout); err != nil {
		s.log.Warn("flush", "err", err)
	}
	close(s.ready) // the server knows the subscription (or will, on reconnect)
	s.log.Info("serving", "subject", bus.SubjectRender, "queue", bus.QueueRender, "workers", s.cfg.Workers)
	<-ctx.Done()
	if err := sub.Drain(); err != nil {
		s.log.Warn("drain", "err", err)
	}
	// Drain returns at once; the handler may still be called for messages
	// already delivered: wait until the subscription is closed (bounded,
	// in case the connection is gone).
	select {
	case <-closed:
	case <-time.After(s.cfg.Timeout):
		s.log.Warn("drain did not finish", "timeout", s.cfg.Timeout)
	}
	s.wg.Wait()
	for range s.cfg.Workers {
		(<-s.pool).Close()
	}
	return nil
}

// Ready is closed once Serve's subscription is known to the server.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// answer handles one request message and replies.
func (s *Service) answer(ctx context.Context, m *nats.Msg) {
	req := &stillsv1.RenderRequest{}
	var reply *stillsv1.RenderReply
	if err := proto.Unmarshal(m.Data, req); err != nil {
		reply = fail(CodeInvalid, fmt.Errorf("protobuf: %v", err))
	} else {
		reply = s.Render(ctx, req)
	}
	data, err := proto.Marshal(reply)
	if err == nil {
		err = m.Respond(data)
	}
	if err != nil {
		s.log.Warn("reply", "stream", req.GetStream(), "err", err)
	}
}

// Render handles one request (the body of the NATS handler). Concurrent
// requests for the same MP4 and settings share one render.
func (s *Service) Render(ctx context.Context, req *stillsv1.RenderRequest) *stillsv1.RenderReply {
	t, key, err := check(req)
	if err != nil {
		return fail(CodeInvalid, err)
	}
	if req.GetSettings().GetMode() == stillsv1.ThumbnailMode_THUMBNAIL_MODE_DISABLED {
		return fail(CodeDisabled, errors.New("thumbnails are disabled for the stream"))
	}
	v, _ := s.flight.do(flightKey(key, req.GetSettings()), func() any {
		// The first caller's cancellation must not fail the others: the
		// render runs on the service's timeout alone.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
		defer cancel()
		return s.render(rctx, req, t, key)
	})
	return v.(*stillsv1.RenderReply)
}

// check validates a request and returns its time and MP4 key. The key
// must be the canonical one for the stream and time (an empty key means
// that one): a request cannot make the service read any other object.
func check(req *stillsv1.RenderRequest) (time.Time, string, error) {
	if err := streamname.Validate(req.GetStream()); err != nil {
		return time.Time{}, "", err
	}
	if req.GetTimeMs() <= 0 {
		return time.Time{}, "", fmt.Errorf("time_ms %d", req.GetTimeMs())
	}
	t := layout.FromMillis(req.GetTimeMs())
	key := layout.MP4(req.GetStream(), t)
	if k := req.GetMp4Key(); k != "" && k != key {
		return time.Time{}, "", fmt.Errorf("mp4_key %q is not %q", k, key)
	}
	if err := worker.ValidateSettings(req.GetSettings()); err != nil {
		return time.Time{}, "", err
	}
	return t, key, nil
}

func flightKey(mp4Key string, st *stillsv1.ThumbnailSettings) string {
	var b strings.Builder
	b.WriteString(mp4Key)
	fmt.Fprintf(&b, "|q%d", st.GetQuality())
	for _, sz := range st.GetSizes() {
		fmt.Fprintf(&b, "|%dx%d", sz.GetWidth(), sz.GetHeight())
	}
	return b.String()
}

func (s *Service) render(ctx context.Context, req *stillsv1.RenderRequest, t time.Time, key string) *stillsv1.RenderReply {
	var r *worker.Renderer
	select {
	case r = <-s.pool:
	case <-ctx.Done():
		return fail(CodeTimeout, errors.New("no renderer free"))
	}
	defer func() { s.pool <- r }()

	movie, err := s.store.Get(ctx, key)
	switch {
	case errors.Is(err, blob.ErrNotFound):
		return fail(CodeNotFound, fmt.Errorf("%s", key))
	case ctx.Err() != nil:
		return fail(CodeTimeout, err)
	case err != nil:
		return fail(CodeStorage, err)
	}
	codec, au, err := mp4.Demux(movie)
	if err != nil {
		return fail(CodeUndecodable, err)
	}
	res, err := r.Render(codec, au, 0, 0, req.GetStream(), t, req.GetSettings(), 0)
	switch {
	case errors.Is(err, libav.ErrUndecodable):
		return fail(CodeUndecodable, err)
	case err != nil:
		return fail(CodeInternal, err)
	}
	rec := &stillsv1.ThumbnailStored{
		Stream: req.GetStream(), TimeMs: req.GetTimeMs(), Codec: codec, Source: worker.SourceRender,
		Mp4: &stillsv1.StoredObject{Key: key, Bytes: int64(len(movie)), Width: uint32(res.Width), Height: uint32(res.Height), ContentType: "video/mp4"},
	}
	for _, j := range res.JPEGs {
		if err := s.store.Put(ctx, j.Key, j.Data, "image/jpeg"); err != nil {
			if ctx.Err() != nil {
				return fail(CodeTimeout, err)
			}
			return fail(CodeStorage, err)
		}
		rec.Jpegs = append(rec.Jpegs, &stillsv1.StoredObject{
			Key: j.Key, Bytes: int64(len(j.Data)), Width: uint32(j.Width), Height: uint32(j.Height), ContentType: "image/jpeg",
		})
	}
	// Its own dedup id: the segment's record (bus.MsgID) may be inside the
	// THUMBS duplicate window, and this one must not be dropped as a copy
	// of it. The same render repeated is deduplicated.
	id := "render:" + bus.MsgID(req.GetStream(), req.GetTimeMs()) + ":" + strconv.Itoa(len(rec.Jpegs)) + flightKey("", req.GetSettings())
	if err := worker.Publish(ctx, s.js, bus.StoredSubject(req.GetStream()), req.GetTimeMs(), id, rec); err != nil {
		reply := fail(CodePublish, err)
		reply.Jpeg = rec.Jpegs[0] // stored all the same
		return reply
	}
	s.log.Debug("rendered", "stream", req.GetStream(), "time_ms", req.GetTimeMs(), "jpegs", len(rec.Jpegs))
	return &stillsv1.RenderReply{Jpeg: rec.Jpegs[0]}
}

func fail(code string, err error) *stillsv1.RenderReply {
	return &stillsv1.RenderReply{Error: code + ": " + err.Error()}
}
