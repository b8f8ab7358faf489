// Package api is the gateway's HTTP surface (DESIGN §4): Flussonic-compatible
// thumbnail URLs under /{name}/..., where a name may hold '/', plus
// /healthz, /readyz, /metrics and /api/openapi.json. Other /api/ paths are
// left to the admin API (404 here).
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/config"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/gateway/internal/auth"
	"github.com/stills-video/stills/services/gateway/internal/index"
	"github.com/stills-video/stills/services/gateway/internal/latest"
	"github.com/stills-video/stills/services/gateway/internal/live"
	"github.com/stills-video/stills/services/gateway/internal/ui"
)

// Renderer renders the JPEG of a stored keyframe MP4 on demand and returns
// the stored JPEG. A missing MP4 is ErrNotFound.
type Renderer interface {
	Render(ctx context.Context, req *stillsv1.RenderRequest) (*stillsv1.StoredObject, error)
}

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
	// Auth checks play tokens; nil = open.
	Auth *auth.Checker
	// Render renders JPEGs of ondemand streams; nil = not available.
	Render Renderer
	// Hub feeds preview.mjpeg; nil = a private hub nothing publishes to.
	Hub *live.Hub
	// Now is the clock (recording_status.json?to=now); nil = time.Now.
	Now func() time.Time
	Log *slog.Logger
	// AccessLog gets one line per request; nil = Log.
	AccessLog  *slog.Logger
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
}

type api struct {
	Deps
	metrics *metrics
	renders *renders
}

// New returns the router.
func New(d Deps) (http.Handler, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.AccessLog == nil {
		d.AccessLog = d.Log
	}
	d.Log = d.Log.With("component", "api")
	d.AccessLog = d.AccessLog.With("component", "access")
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Ready == nil {
		d.Ready = func() bool { return true }
	}
	if d.Stream == nil {
		d.Stream = func(string) (config.Stream, bool) { return config.Stream{}, false }
	}
	if d.Hub == nil {
		d.Hub = live.NewHub()
	}
	if d.Registerer == nil {
		reg := prometheus.NewRegistry()
		d.Registerer, d.Gatherer = reg, reg
	}
	if d.Gatherer == nil {
		d.Gatherer = prometheus.DefaultGatherer
	}
	m, err := newMetrics(d.Registerer, d.Hub)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	a := &api{Deps: d, metrics: m, renders: newRenders(d.Render)}

	r := chi.NewRouter()
	r.Use(a.instrument)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, a.Log, r, fmt.Errorf("%w: no such resource", ErrNotFound))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		writeError(w, a.Log, r, fmt.Errorf("%w: %s", ErrMethod, r.Method))
	})
	metricsHandler := promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})
	uiHandler := ui.Handler()
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r.MethodFunc(method, "/healthz", a.healthz)
		r.MethodFunc(method, "/readyz", a.readyz)
		r.MethodFunc(method, "/metrics", func(w http.ResponseWriter, r *http.Request) {
			setRoute(w, "metrics")
			metricsHandler.ServeHTTP(w, r)
		})
		r.MethodFunc(method, "/api/openapi.json", a.openapi)
		r.MethodFunc(method, "/", func(w http.ResponseWriter, r *http.Request) {
			setRoute(w, "ui")
			uiHandler.ServeHTTP(w, r)
		})
		r.MethodFunc(method, "/*", a.serveStream)
	}
	r.MethodFunc(http.MethodOptions, "/*", preflight)
	return r, nil
}

func (a *api) healthz(w http.ResponseWriter, _ *http.Request) {
	setRoute(w, "healthz")
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	setRoute(w, "readyz")
	if !a.Ready() {
		writeError(w, a.Log, r, fmt.Errorf("%w: index catching up with THUMBS", ErrNotReady))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "applied_seq": a.Index.LastApplied()})
}

// serveStream dispatches every /{name}/... URL: parse, play token, stream
// settings, then the form's handler.
func (a *api) serveStream(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") { // the admin API's, when mounted
		writeError(w, a.Log, r, fmt.Errorf("%w: no such resource", ErrNotFound))
		return
	}
	rt, err := parsePath(r.URL.Path)
	if err == nil {
		setRoute(w, rt.kind.String())
		rt.query = r.URL.Query() // once per request
		err = a.authorize(r, rt)
	}
	var st config.Stream
	if err == nil {
		st, err = a.stream(rt.name)
	}
	if err == nil {
		err = a.serve(w, r, rt, st)
	}
	if err != nil {
		writeError(w, a.Log, r, err)
	}
}

// authorize checks the play token of a request for stream name. The token
// is the one ?token= value; several are refused.
func (a *api) authorize(r *http.Request, rt route) error {
	if !a.Auth.Enabled() {
		return nil
	}
	var token string
	if tokens := rt.query["token"]; len(tokens) > 1 {
		return fmt.Errorf("%w: several tokens", auth.ErrMalformed)
	} else if len(tokens) == 1 {
		token = tokens[0]
	}
	return a.Auth.Check(r.Context(), rt.name, token, clientIP(r))
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
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
	if rt.kind.isJPEG() {
		if st.Thumbnails.Enabled == config.ModeDisabled {
			return fmt.Errorf("%w: JPEG thumbnails are disabled for stream %q", ErrForbidden, rt.name)
		}
		var err error
		if rt.want, err = parseSize(rt.query); err != nil {
			return err
		}
	}
	switch rt.kind {
	case kindPreviewJPEG:
		return a.previewJPEG(w, r, rt, st)
	case kindPreviewMJPEG:
		return a.previewMJPEG(w, r, rt)
	case kindPreviewMP4:
		return a.previewMP4(w, r, rt.name)
	case kindStatus:
		return a.recordingStatus(w, r, st)
	case kindDateJPEG:
		return a.dateJPEG(w, r, rt, st)
	case kindDateMP4:
		return a.dateMP4(w, r, rt)
	case kindUnixPreviewJPEG:
		return a.unixPreviewJPEG(w, r, rt)
	case kindUnixJPEG:
		return a.unixJPEG(w, r, rt, st)
	default: // kindUnixPreviewMP4
		return a.unixPreviewMP4(w, r, rt)
	}
}
