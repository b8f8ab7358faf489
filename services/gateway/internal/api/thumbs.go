package api

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/services/gateway/internal/index"
	"github.com/stills-video/stills/services/gateway/internal/latest"
)

// Cache-Control values.
const (
	cacheNoCache   = "no-cache"
	cacheImmutable = "public, max-age=31536000, immutable"
)

func (a *api) previewJPEG(w http.ResponseWriter, r *http.Request, rt route, st config.Stream) error {
	e, ok, err := a.Index.Latest(rt.name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no thumbnail of stream %q yet", ErrNotFound, rt.name)
	}
	o, err := a.jpegOf(r.Context(), st, e, rt.want)
	if err != nil {
		return err
	}
	return a.sendLatest(w, r, rt.name, latest.JPEG, e, o, "image/jpeg")
}

// previewMP4 serves the newest MP4, or with ?from= the MP4 of the first
// keyframe at or after that time.
func (a *api) previewMP4(w http.ResponseWriter, r *http.Request, name string) error {
	if from := r.URL.Query().Get("from"); from != "" {
		unix, err := parseUnixParam(from, 0, a.Now().Unix())
		if err != nil {
			return err
		}
		n, ok, err := a.Index.FirstAtOrAfter(name, unix*1000)
		if err != nil {
			return err
		}
		if !ok || !n.HasMP4() {
			return fmt.Errorf("%w: no preview of stream %q at or after %d", ErrNotFound, name, unix)
		}
		w.Header().Set("Content-Location", mp4URL(name, n))
		return a.sendArchive(w, r, name, latest.MP4, n, n.MP4, "video/mp4", cacheNoCache)
	}
	e, ok, err := a.Index.Latest(name)
	if err != nil {
		return err
	}
	if !ok || !e.HasMP4() {
		return fmt.Errorf("%w: no preview of stream %q yet", ErrNotFound, name)
	}
	return a.sendLatest(w, r, name, latest.MP4, e, e.MP4, "video/mp4")
}

// dateJPEG serves the exact second, else redirects to the nearest one.
func (a *api) dateJPEG(w http.ResponseWriter, r *http.Request, rt route, st config.Stream) error {
	e, ok, err := a.Index.Second(rt.name, rt.unix)
	if err != nil {
		return err
	}
	if ok {
		o, err := a.jpegOf(r.Context(), st, e, rt.want)
		if err == nil {
			return a.sendArchive(w, r, rt.name, latest.JPEG, e, o, "image/jpeg", cacheImmutable)
		}
		if !errors.Is(err, errNoJPEG) {
			return err
		}
	}
	n, ok, err := a.Index.Nearest(rt.name, rt.unix*1000)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no thumbnails of stream %q", ErrNotFound, rt.name)
	}
	if n.Unix() == rt.unix {
		return fmt.Errorf("%w: no JPEG stored for this keyframe", ErrNotFound)
	}
	redirect(w, r, jpegURL(rt.name, n))
	return nil
}

// dateMP4 serves the exact second, else redirects to the first at or after.
func (a *api) dateMP4(w http.ResponseWriter, r *http.Request, rt route) error {
	e, ok, err := a.Index.Second(rt.name, rt.unix)
	if err != nil {
		return err
	}
	if ok && e.HasMP4() {
		return a.sendArchive(w, r, rt.name, latest.MP4, e, e.MP4, "video/mp4", cacheImmutable)
	}
	return a.unixPreviewMP4(w, r, rt)
}

// unixPreviewJPEG redirects to the date URL of the nearest keyframe (which
// renders on demand when only its MP4 is stored).
func (a *api) unixPreviewJPEG(w http.ResponseWriter, r *http.Request, rt route) error {
	ms, ok, err := a.Index.NearestTime(rt.name, rt.unix*1000)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no thumbnails of stream %q", ErrNotFound, rt.name)
	}
	redirect(w, r, jpegURL(rt.name, index.Entry{TimeMs: ms}))
	return nil
}

func (a *api) unixJPEG(w http.ResponseWriter, r *http.Request, rt route, st config.Stream) error {
	n, ok, err := a.Index.Nearest(rt.name, rt.unix*1000)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no JPEG of stream %q near %d", ErrNotFound, rt.name, rt.unix)
	}
	o, err := a.jpegOf(r.Context(), st, n, rt.want)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Location", jpegURL(rt.name, n))
	return a.sendArchive(w, r, rt.name, latest.JPEG, n, o, "image/jpeg", cacheNoCache)
}

func (a *api) unixPreviewMP4(w http.ResponseWriter, r *http.Request, rt route) error {
	n, ok, err := a.Index.FirstAtOrAfter(rt.name, rt.unix*1000)
	if err != nil {
		return err
	}
	if !ok || !n.HasMP4() {
		return fmt.Errorf("%w: no preview of stream %q at or after %d", ErrNotFound, rt.name, rt.unix)
	}
	if n.Unix() == rt.unix {
		// Reached from an exact date URL whose entry is the answer but
		// has no MP4: nothing to redirect to.
		return fmt.Errorf("%w: no preview stored for this keyframe", ErrNotFound)
	}
	redirect(w, r, mp4URL(rt.name, n))
	return nil
}

// sendLatest serves a stream's newest object from the latest cache.
func (a *api) sendLatest(w http.ResponseWriter, r *http.Request, name string, k latest.Kind, e index.Entry, o index.Object, ctype string) error {
	etag := etagOf(e, o)
	setHeaders(w, ctype, etag, cacheNoCache, e)
	if notModified(r, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	b, err := a.Cache.Get(r.Context(), name, k, o.Key, e.TimeMs)
	if err != nil {
		return err
	}
	serveBytes(w, r, e, b.Data)
	return nil
}

// sendArchive serves a stored object, from the latest cache when it is the
// newest one.
func (a *api) sendArchive(w http.ResponseWriter, r *http.Request, name string, k latest.Kind, e index.Entry, o index.Object, ctype, cacheControl string) error {
	etag := etagOf(e, o)
	setHeaders(w, ctype, etag, cacheControl, e)
	if notModified(r, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	var data []byte
	if b, ok := a.Cache.Peek(name, k, o.Key); ok {
		data = b.Data
	} else {
		var err error
		if data, err = a.Store.Get(r.Context(), o.Key); err != nil {
			return fmt.Errorf("get %s: %w", o.Key, err)
		}
	}
	serveBytes(w, r, e, data)
	return nil
}

// setHeaders sets the validators and caching of an object response;
// Last-Modified is the keyframe time.
// Shared header values (never modified).
var (
	acceptRanges = []string{"bytes"}
	constValues  = map[string][]string{}
)

func init() {
	for _, v := range []string{"image/jpeg", "video/mp4", cacheNoCache, cacheImmutable} {
		constValues[v] = []string{v}
	}
}

// constValue is a shared header value for the constants above.
func constValue(v string) []string {
	if s, ok := constValues[v]; ok {
		return s
	}
	return []string{v}
}

// serveBytes writes data: directly for a plain GET/HEAD, through
// http.ServeContent when ranges or dates are to be evaluated.
func serveBytes(w http.ResponseWriter, r *http.Request, e index.Entry, data []byte) {
	h := r.Header
	if h.Get("Range") != "" || h.Get("If-Modified-Since") != "" || h.Get("If-Unmodified-Since") != "" ||
		h.Get("If-Match") != "" || h.Get("If-Range") != "" {
		http.ServeContent(w, r, "", e.Time(), bytes.NewReader(data))
		return
	}
	wh := w.Header()
	wh["Accept-Ranges"] = acceptRanges
	wh.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

func setHeaders(w http.ResponseWriter, ctype, etag, cacheControl string, e index.Entry) {
	h := w.Header()
	h["Content-Type"] = constValue(ctype)
	h["Etag"] = []string{etag}
	h["Cache-Control"] = constValue(cacheControl)
	h["Last-Modified"] = []string{e.Time().Format(http.TimeFormat)}
}

// etagOf is a strong validator of an object: entry time, key and size.
// Every replica computes the same one from its index.
func etagOf(e index.Entry, o index.Object) string {
	h := fnv.New32a()
	h.Write([]byte(o.Key))
	return `"` + strconv.FormatInt(e.TimeMs, 36) + "-" + strconv.FormatUint(uint64(h.Sum32()), 36) +
		"-" + strconv.FormatInt(o.Bytes, 36) + `"`
}

// notModified evaluates If-None-Match against etag.
func notModified(r *http.Request, etag string) bool {
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// redirect answers 302 to location, keeping the request's query string (a
// play token must survive the hop).
func redirect(w http.ResponseWriter, r *http.Request, location string) {
	if r.URL.RawQuery != "" {
		location += "?" + r.URL.RawQuery
	}
	h := w.Header()
	h.Set("Location", location)
	h.Set("Cache-Control", cacheNoCache)
	w.WriteHeader(http.StatusFound)
}

func jpegURL(name string, e index.Entry) string {
	return "/" + name + "/" + layout.DatePath(e.Time()) + ".jpg"
}

func mp4URL(name string, e index.Entry) string {
	return "/" + name + "/" + layout.DatePath(e.Time()) + "-preview.mp4"
}
