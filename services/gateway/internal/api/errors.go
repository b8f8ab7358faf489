package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/streamname"
	"github.com/stills-video/stills/services/gateway/internal/auth"
	"github.com/stills-video/stills/services/gateway/internal/render"
)

// Sentinel errors; handlers wrap them with a message the client may read.
var (
	ErrBadRequest = errors.New("bad request")
	ErrForbidden  = errors.New("forbidden")
	ErrNotFound   = errors.New("not found")
	ErrMethod     = errors.New("method not allowed")
	ErrNotReady   = errors.New("not ready")
)

type errorItem struct {
	Status string `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
}

type errorBody struct {
	Errors []errorItem `json:"errors"`
	Error  string      `json:"error"`
}

// classify maps an error to its HTTP status, code and whether its message
// may be shown to the client. This is the only place that does.
func classify(err error) (status int, code string, public bool) {
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, streamname.ErrInvalid):
		return http.StatusBadRequest, "bad_request", true
	case errors.Is(err, auth.ErrUnavailable):
		return http.StatusServiceUnavailable, "auth_unavailable", true
	case errors.Is(err, auth.ErrMissing), errors.Is(err, auth.ErrMalformed), errors.Is(err, auth.ErrExpired),
		errors.Is(err, auth.ErrForged), errors.Is(err, auth.ErrDenied):
		return http.StatusForbidden, "forbidden", true
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, "forbidden", true
	case errors.Is(err, ErrNotFound), errors.Is(err, blob.ErrNotFound), errors.Is(err, render.ErrNotFound):
		return http.StatusNotFound, "not_found", true
	case errors.Is(err, render.ErrUnavailable):
		return http.StatusServiceUnavailable, "unavailable", false
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed, "method_not_allowed", true
	case errors.Is(err, ErrNotReady):
		return http.StatusServiceUnavailable, "not_ready", true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "unavailable", false
	default:
		return http.StatusInternalServerError, "internal", false
	}
}

// writeError answers with the JSON error body for err.
func writeError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	status, code, public := classify(err)
	title := err.Error()
	if !public {
		title = http.StatusText(status)
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	WriteProblem(w, status, code, title)
}
