package api

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// recorder remembers what a handler answered, for metrics and the access
// log. Handlers name their route with setRoute.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	route  string
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and SetWriteDeadline.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// setRoute labels the request for metrics and logs.
func setRoute(w http.ResponseWriter, route string) {
	if rec, ok := w.(*recorder); ok {
		rec.route = route
	}
}

// instrument wraps every request: CORS headers, the request metrics and
// one access-log line.
func (a *api) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, route: "other"}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			rec.route = "api"
		} else {
			cors(w.Header())
		}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		d := time.Since(start)
		a.metrics.observe(rec.route, rec.status, d)
		if !a.AccessLog.Enabled(r.Context(), slog.LevelInfo) {
			return
		}
		a.AccessLog.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", rec.route),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", d),
			slog.String("remote", r.RemoteAddr))
	})
}

// cors lets front-end pages on any origin read the thumbnail API (it
// carries no cookies; tokens travel in the URL).
func cors(h http.Header) {
	// Shared, never-modified values: no allocation per request.
	h["Access-Control-Allow-Origin"] = corsOrigin
	h["Access-Control-Expose-Headers"] = corsExpose
}

var (
	corsOrigin = []string{"*"}
	corsExpose = []string{"ETag, Location, Content-Location, Last-Modified, Content-Length, Content-Range"}
)

// preflight answers OPTIONS (CORS preflight or not) on the thumbnail API.
func preflight(w http.ResponseWriter, r *http.Request) {
	setRoute(w, "preflight")
	h := w.Header()
	h.Set("Allow", "GET, HEAD, OPTIONS")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeError(w, slog.New(slog.DiscardHandler), r, ErrNotFound)
		return
	}
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "If-None-Match, If-Modified-Since, Range, Cache-Control")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
