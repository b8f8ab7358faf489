package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamname"
	"github.com/stills-video/stills/pkg/streamstore"
	"github.com/stills-video/stills/services/gateway/internal/api"
)

// Sentinel errors; handlers wrap them with a message the client may read.
var (
	ErrBadRequest   = errors.New("bad request")
	ErrUnauthorized = errors.New("unauthorized")
	ErrNotFound     = errors.New("not found")
	ErrMethod       = errors.New("method not allowed")
	ErrTooLarge     = errors.New("request body too large")
	ErrMediaType    = errors.New("unsupported media type")
)

// classify maps an error to its HTTP status and code, and tells whether
// its message may be shown. This is the only place in the admin API that
// does; the body is the gateway's (api.WriteProblem).
func classify(err error) (status int, code string, public bool) {
	var ce *config.Error
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, streamname.ErrInvalid), errors.As(err, &ce):
		return http.StatusBadRequest, "bad_request", true
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, "unauthorized", true
	case errors.Is(err, ErrNotFound), errors.Is(err, streamstore.ErrNotFound):
		return http.StatusNotFound, "not_found", true
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed, "method_not_allowed", true
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large", true
	case errors.Is(err, ErrMediaType):
		return http.StatusUnsupportedMediaType, "unsupported_media_type", true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "unavailable", false
	default:
		return http.StatusInternalServerError, "internal", false
	}
}

// title is the client-facing message: a *config.Error is "key: reason"
// (the field first, without the "config: " prefix).
func title(err error) string {
	var ce *config.Error
	if errors.As(err, &ce) {
		return ce.Key + ": " + ce.Reason
	}
	return err.Error()
}

func writeError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	status, code, public := classify(err)
	msg := title(err)
	if !public {
		msg = http.StatusText(status)
		log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	api.WriteProblem(w, status, code, msg)
}
