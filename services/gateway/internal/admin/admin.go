// Package admin is the gateway's stream management API (DESIGN §6), mounted
// at /api/streams: list with status, get, create or replace, delete. The
// stream configuration lives in NATS KV (pkg/streamstore); every ingest and
// gateway watches it, so a change takes effect without a restart.
package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamname"
	"github.com/stills-video/stills/pkg/streamstore"
)

// DefaultGrace is how long a configured stream without a status is
// "starting" before it is "offline"; it matches streamstore's status TTL.
const DefaultGrace = 30 * time.Second

// Deps are what the admin API works on.
type Deps struct {
	Store *streamstore.Store
	// Key is the admin key; when set every request needs
	// "Authorization: Bearer <Key>". Empty = open.
	Key string
	// Count is the number of thumbnails of a stream in the index; nil = 0.
	Count func(name string) (int, error)
	// Seen is when this gateway first saw the stream's current
	// configuration; nil or unknown = when New was called.
	Seen func(name string) (time.Time, bool)
	// Grace: see DefaultGrace (0 = default).
	Grace time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

type admin struct {
	Deps
	started time.Time
}

// New returns the router, to be mounted at /api/streams: GET / lists, and
// GET, PUT, DELETE /{name} (name may hold '/') act on one stream.
func New(d Deps) (http.Handler, error) {
	if d.Store == nil {
		return nil, errors.New("admin: no stream store")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	d.Log = d.Log.With("component", "admin")
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Grace == 0 {
		d.Grace = DefaultGrace
	}
	if d.Count == nil {
		d.Count = func(string) (int, error) { return 0, nil }
	}
	a := &admin{Deps: d, started: d.Now()}

	r := chi.NewRouter()
	r.Use(a.authorize)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, a.Log, r, fmt.Errorf("%w: no such resource", ErrNotFound))
	})
	notAllowed := func(allow string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, a.Log, r, fmt.Errorf("%w: %s", ErrMethod, r.Method))
		}
	}
	r.MethodNotAllowed(notAllowed("GET, PUT, DELETE"))
	r.HandleFunc("/", notAllowed("GET")) // the list: any method but GET
	r.Get("/", a.list)
	r.Get("/*", a.get)
	r.Put("/*", a.put)
	r.Delete("/*", a.delete)
	return r, nil
}

func (a *admin) list(w http.ResponseWriter, r *http.Request) {
	streams, err := a.Store.List(r.Context())
	if err != nil {
		writeError(w, a.Log, r, err)
		return
	}
	statuses, err := a.Store.Statuses(r.Context())
	if err != nil {
		writeError(w, a.Log, r, err)
		return
	}
	sort.Slice(streams, func(i, j int) bool { return streams[i].Name < streams[j].Name })
	out := make([]View, 0, len(streams))
	for _, s := range streams {
		st, ok := statuses[s.Name]
		v, err := a.view(s, st, ok)
		if err != nil {
			writeError(w, a.Log, r, err)
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *admin) get(w http.ResponseWriter, r *http.Request) {
	name, err := pathName(r)
	if err == nil {
		var v View
		if v, err = a.current(r, name); err == nil {
			writeJSON(w, http.StatusOK, v)
			return
		}
	}
	writeError(w, a.Log, r, err)
}

// put creates or replaces a stream: 201 on create, 200 on replace, with the
// stream as GET shows it. The name in the path wins; a different one in
// the body is refused. Nothing is written unless the whole stream is valid.
func (a *admin) put(w http.ResponseWriter, r *http.Request) {
	if err := a.putStream(w, r); err != nil {
		writeError(w, a.Log, r, err)
	}
}

func (a *admin) putStream(w http.ResponseWriter, r *http.Request) error {
	name, err := pathName(r)
	if err != nil {
		return err
	}
	s, bodyName, err := decodeStream(w, r)
	if err != nil {
		return err
	}
	if bodyName != "" && bodyName != name {
		return &config.Error{Key: "name", Reason: fmt.Sprintf("%q in the body does not match %q in the path", bodyName, name)}
	}
	s.Name = name
	old, err := a.Store.Get(r.Context(), name)
	created := errors.Is(err, streamstore.ErrNotFound)
	if err != nil && !created {
		return err
	}
	if !created {
		keepSecrets(&s, old)
	}
	if err := streamstore.Prepare(&s); err != nil {
		return err
	}
	if err := a.Store.Put(r.Context(), s); err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	a.Log.Info("stream stored", "stream", name, "url", redact(s.URL), "created", created)
	v, err := a.view(s, streamstore.Status{}, false)
	if err != nil {
		return err
	}
	w.Header().Set("Location", r.URL.EscapedPath())
	writeJSON(w, status, v)
	return nil
}

func (a *admin) delete(w http.ResponseWriter, r *http.Request) {
	name, err := pathName(r)
	if err == nil {
		err = a.Store.Delete(r.Context(), name)
	}
	if err != nil {
		writeError(w, a.Log, r, err)
		return
	}
	// The ingest that pulled it deletes the status too when it stops; this
	// only spares a dead ingest's status its TTL.
	if err := a.Store.DeleteStatus(r.Context(), name); err != nil {
		a.Log.Warn("delete status", "stream", name, "err", err)
	}
	a.Log.Info("stream deleted", "stream", name)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// current is the view of one configured stream.
func (a *admin) current(r *http.Request, name string) (View, error) {
	s, err := a.Store.Get(r.Context(), name)
	if err != nil {
		return View{}, err
	}
	statuses, err := a.Store.Statuses(r.Context())
	if err != nil {
		return View{}, err
	}
	st, ok := statuses[name]
	return a.view(s, st, ok)
}

func (a *admin) view(s config.Stream, st streamstore.Status, hasStatus bool) (View, error) {
	n, err := a.Count(s.Name)
	if err != nil {
		return View{}, err
	}
	seen := a.started
	if a.Seen != nil {
		if t, ok := a.Seen(s.Name); ok {
			seen = t
		}
	}
	return newView(s, st, hasStatus, seen, a.Now(), a.Grace, n), nil
}

// pathName is the stream name of /{name}: the route's wildcard, decoded
// exactly once (chi routes on the escaped path when the URL has one) and
// validated.
func pathName(r *http.Request) (string, error) {
	name := chi.URLParam(r, "*")
	if r.URL.RawPath != "" {
		var err error
		if name, err = url.PathUnescape(name); err != nil {
			return "", &config.Error{Key: "name", Reason: "bad escape in the path"}
		}
	}
	if err := streamname.Validate(name); err != nil {
		return "", &config.Error{Key: "name", Reason: err.Error()}
	}
	return name, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
