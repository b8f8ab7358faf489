package api

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/config"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/gateway/internal/index"
)

// errNoJPEG: the entry has no JPEG and none can be rendered.
var errNoJPEG = fmt.Errorf("%w: no JPEG stored for this keyframe", ErrNotFound)

// jpegOf returns the JPEG of e to serve: a stored one (best size for want),
// or, for an ondemand stream whose entry only has the MP4, one rendered by
// the render service.
func (a *api) jpegOf(ctx context.Context, st config.Stream, e index.Entry, want size) (index.Object, error) {
	if o, ok := pickJPEG(want, e); ok {
		return o, nil
	}
	if st.Thumbnails.Enabled != config.ModeOnDemand || !e.HasMP4() || a.renders == nil {
		return index.Object{}, errNoJPEG
	}
	return a.renders.get(ctx, st, e)
}

// renders coalesces on-demand renders: one request per MP4 in flight, and
// the results remembered (bounded) until the index learns of them.
type renders struct {
	r Renderer

	mu       sync.Mutex
	inflight map[string]*renderCall
	done     map[string]index.Object
}

type renderCall struct {
	finished chan struct{}
	obj      index.Object
	err      error
}

// maxRendered bounds the remembered renders.
const maxRendered = 4096

func newRenders(r Renderer) *renders {
	if r == nil {
		return nil
	}
	return &renders{r: r, inflight: map[string]*renderCall{}, done: map[string]index.Object{}}
}

func (rs *renders) get(ctx context.Context, st config.Stream, e index.Entry) (index.Object, error) {
	key := e.MP4.Key
	rs.mu.Lock()
	if o, ok := rs.done[key]; ok {
		rs.mu.Unlock()
		return o, nil
	}
	c, running := rs.inflight[key]
	if !running {
		c = &renderCall{finished: make(chan struct{})}
		rs.inflight[key] = c
	}
	rs.mu.Unlock()
	if !running {
		// Detached from the first caller: the others wait for it too.
		go rs.run(context.WithoutCancel(ctx), c, st, e)
	}
	select {
	case <-c.finished:
		return c.obj, c.err
	case <-ctx.Done():
		return index.Object{}, ctx.Err()
	}
}

func (rs *renders) run(ctx context.Context, c *renderCall, st config.Stream, e index.Entry) {
	c.obj, c.err = rs.render(ctx, st, e)
	rs.mu.Lock()
	delete(rs.inflight, e.MP4.Key)
	if c.err == nil {
		if len(rs.done) >= maxRendered {
			clear(rs.done)
		}
		rs.done[e.MP4.Key] = c.obj
	}
	rs.mu.Unlock()
	close(c.finished)
}

func (rs *renders) render(ctx context.Context, st config.Stream, e index.Entry) (index.Object, error) {
	j, err := rs.r.Render(ctx, &stillsv1.RenderRequest{
		Stream: st.Name, TimeMs: e.TimeMs, Mp4Key: e.MP4.Key, Settings: st.Settings(),
	})
	if err != nil {
		return index.Object{}, fmt.Errorf("render %s: %w", e.MP4.Key, err)
	}
	// The reply names the object to serve: it must be a valid key of this
	// stream.
	if blob.ValidateKey(j.GetKey()) != nil || !strings.HasPrefix(j.GetKey(), st.Name+"/") {
		return index.Object{}, fmt.Errorf("render %s: reply names key %q outside the stream", e.MP4.Key, j.GetKey())
	}
	return index.Object{Key: j.GetKey(), Bytes: j.GetBytes(), Width: j.GetWidth(), Height: j.GetHeight()}, nil
}
