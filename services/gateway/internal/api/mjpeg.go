package api

import (
	"net/http"
	"time"

	"github.com/stills-video/stills/services/gateway/internal/latest"
	"github.com/stills-video/stills/services/gateway/internal/live"
)

// partWriteTimeout bounds the write of one part: the route is exempt from
// the server's WriteTimeout, not from a dead client.
const partWriteTimeout = 10 * time.Second

// previewMJPEG streams a stream's thumbnails as multipart/x-mixed-replace:
// the newest one at once, then one part per new thumbnail, until the
// client goes, is too slow (dropped by the hub) or the server shuts down.
func (a *api) previewMJPEG(w http.ResponseWriter, r *http.Request, rt route) error {
	h := w.Header()
	h.Set("Content-Type", "multipart/x-mixed-replace; boundary="+live.Boundary)
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Accel-Buffering", "no")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	sub := a.Hub.Subscribe(rt.name)
	defer a.Hub.Unsubscribe(sub)

	rc := http.NewResponseController(w)
	// The server's ReadTimeout would end the response (it cancels the
	// request once the idle connection's read deadline passes).
	if err := rc.SetReadDeadline(time.Time{}); err != nil {
		a.Log.Debug("mjpeg read deadline", "err", err)
	}
	send := func(part []byte) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(partWriteTimeout)); err != nil {
			a.Log.Debug("mjpeg write deadline", "err", err)
		}
		if _, err := w.Write(part); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	w.WriteHeader(http.StatusOK)
	if !send([]byte(live.Opening)) {
		return nil
	}
	var lastMs int64 = -1
	if e, ok, err := a.Index.Latest(rt.name); err == nil && ok {
		if o, has := e.JPEG(); has {
			if b, err := a.Cache.Get(r.Context(), rt.name, latest.JPEG, o.Key, e.TimeMs); err == nil {
				if !send(live.NewFrame(e.TimeMs, b.Data).Part) {
					return nil
				}
				lastMs = e.TimeMs
			}
		}
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	for {
		select {
		case <-r.Context().Done():
			return nil
		case f, ok := <-sub.C:
			if !ok {
				return nil // too slow, or shutting down
			}
			if f.TimeMs <= lastMs {
				continue
			}
			if !send(f.Part) {
				return nil
			}
			lastMs = f.TimeMs
		}
	}
}
