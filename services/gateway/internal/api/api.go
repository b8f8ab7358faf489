// Package api is the gateway's HTTP surface (DESIGN §4): Flussonic-compatible
// thumbnail URLs under /{name}/..., where a name may hold '/', plus
// /healthz, /readyz and /metrics.
package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/services/gateway/internal/index"
	"github.com/stills-video/stills/services/gateway/internal/latest"
)

// Deps are what the API serves from.
type Deps struct {
	Index *index.DB
	Store blob.Store
	Cache *latest.Cache
	// Stream returns the settings of a configured stream (with defaults
	// filled in).
	Stream func(name string) (config.Stream, bool)
	// Ready reports whether the index has caught up (/readyz).
	Ready func() bool
	// Now is the clock (recording_status.json?to=now); nil = time.Now.
	Now        func() time.Time
	Log        *slog.Logger
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
}

type api struct {
	Deps
	metrics *metrics
}

// New returns the router.
func New(d Deps) (http.Handler, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	d.Log = d.Log.With("component", "api")
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Ready == nil {
		d.Ready = func() bool { return true }
	}
	if d.Stream == nil {
		d.Stream = func(string) (config.Stream, bool) { return config.Stream{}, false }
	}
	if d.Registerer == nil {
		reg := prometheus.NewRegistry()
		d.Registerer, d.Gatherer = reg, reg
	}
	if d.Gatherer == nil {
		d.Gatherer = prometheus.DefaultGatherer
	}
	m, err := newMetrics(d.Registerer)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	a := &api{Deps: d, metrics: m}

	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, a.Log, r, fmt.Errorf("%w: no such resource", ErrNotFound))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, a.Log, r, fmt.Errorf("%w: %s", ErrMethod, r.Method))
	})
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r.MethodFunc(method, "/healthz", a.healthz)
		r.MethodFunc(method, "/readyz", a.readyz)
		r.Method(method, "/metrics", promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{}))
		r.MethodFunc(method, "/*", a.serveStream)
	}
	return r, nil
}

func (a *api) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	if !a.Ready() {
		writeError(w, a.Log, r, fmt.Errorf("%w: index catching up with THUMBS", ErrNotReady))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "applied_seq": a.Index.LastApplied()})
}

// serveStream dispatches every /{name}/... URL.
func (a *api) serveStream(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	label := "unknown"
	defer func() { a.metrics.observe(label, sw.status, time.Since(start)) }()

	rt, err := parsePath(r.URL.Path)
	if err != nil {
		writeError(sw, a.Log, r, err)
		return
	}
	label = rt.kind.String()
	st, err := a.stream(rt.name)
	if err == nil {
		err = a.serve(sw, r, rt, st)
	}
	if err != nil {
		writeError(sw, a.Log, r, err)
	}
}

// stream returns the settings of name: configured, or defaults for a
// stream that is only in the index. Neither is ErrNotFound.
func (a *api) stream(name string) (config.Stream, error) {
	if st, ok := a.Stream(name); ok {
		return st, nil
	}
	if _, _, ok, err := a.Index.Bounds(name); err != nil {
		return config.Stream{}, err
	} else if !ok {
		return config.Stream{}, fmt.Errorf("%w: no stream %q", ErrNotFound, name)
	}
	st := config.Stream{Name: name}
	st.FillDefaults()
	return st, nil
}

func (a *api) serve(w http.ResponseWriter, r *http.Request, rt route, st config.Stream) error {
	jpeg := rt.kind == kindPreviewJPEG || rt.kind == kindDateJPEG || rt.kind == kindUnixJPEG ||
		rt.kind == kindUnixPreviewJPEG
	if jpeg && st.Thumbnails.Enabled == config.ModeDisabled {
		return fmt.Errorf("%w: JPEG thumbnails are disabled for stream %q", ErrForbidden, rt.name)
	}
	switch rt.kind {
	case kindPreviewJPEG:
		return a.previewJPEG(w, r, rt.name)
	case kindPreviewMP4:
		return a.previewMP4(w, r, rt.name)
	case kindStatus:
		return a.recordingStatus(w, r, st)
	case kindDateJPEG:
		return a.dateJPEG(w, r, rt)
	case kindDateMP4:
		return a.dateMP4(w, r, rt)
	case kindUnixPreviewJPEG:
		return a.unixPreviewJPEG(w, r, rt)
	case kindUnixJPEG:
		return a.unixJPEG(w, r, rt)
	default: // kindUnixPreviewMP4
		return a.unixPreviewMP4(w, r, rt)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
