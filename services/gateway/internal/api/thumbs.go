package api

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/services/gateway/internal/index"
	"github.com/stills-video/stills/services/gateway/internal/latest"
)

// Cache-Control values.
const (
	cacheNoCache   = "no-cache"
	cacheImmutable = "public, max-age=31536000, immutable"
)

func (a *api) previewJPEG(w http.ResponseWriter, r *http.Request, name string) error {
	e, ok, err := a.Index.Latest(name)
	if err != nil {
		return err
	}
	o, has := pickJPEG(r, e)
	if !ok || !has {
		return fmt.Errorf("%w: no thumbnail of stream %q yet", ErrNotFound, name)
	}
	return a.sendLatest(w, r, name, latest.JPEG, e, o, "image/jpeg")
}

func (a *api) previewMP4(w http.ResponseWriter, r *http.Request, name string) error {
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
func (a *api) dateJPEG(w http.ResponseWriter, r *http.Request, rt route) error {
	e, ok, err := a.Index.Second(rt.name, rt.unix)
	if err != nil {
		return err
	}
	if o, has := pickJPEG(r, e); ok && has {
		return a.sendArchive(w, r, rt.name, latest.JPEG, e, o, "image/jpeg", cacheImmutable)
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

func (a *api) unixPreviewJPEG(w http.ResponseWriter, r *http.Request, rt route) error {
	n, ok, err := a.Index.Nearest(rt.name, rt.unix*1000)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no thumbnails of stream %q", ErrNotFound, rt.name)
	}
	redirect(w, r, jpegURL(rt.name, n))
	return nil
}

func (a *api) unixJPEG(w http.ResponseWriter, r *http.Request, rt route) error {
	n, ok, err := a.Index.Nearest(rt.name, rt.unix*1000)
	if err != nil {
		return err
	}
	o, has := pickJPEG(r, n)
	if !ok || !has {
		return fmt.Errorf("%w: no JPEG of stream %q near %d", ErrNotFound, rt.name, rt.unix)
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

// pickJPEG chooses the JPEG of e to serve. It is the seam for the
// width/height query (served from the configured sizes): for now the
// canonical one.
func pickJPEG(_ *http.Request, e index.Entry) (index.Object, bool) {
	return e.JPEG()
}

// sendLatest serves a stream's newest object from the latest cache.
func (a *api) sendLatest(w http.ResponseWriter, r *http.Request, name string, k latest.Kind, e index.Entry, o index.Object, ctype string) error {
	etag := etagOf(e, o)
	setHeaders(w, ctype, etag, cacheNoCache)
	if notModified(r, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	b, err := a.Cache.Get(r.Context(), name, k, o.Key, e.TimeMs)
	if err != nil {
		return err
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b.Data))
	return nil
}

// sendArchive serves a stored object, from the latest cache when it is the
// newest one.
func (a *api) sendArchive(w http.ResponseWriter, r *http.Request, name string, k latest.Kind, e index.Entry, o index.Object, ctype, cacheControl string) error {
	etag := etagOf(e, o)
	setHeaders(w, ctype, etag, cacheControl)
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
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	return nil
}

func setHeaders(w http.ResponseWriter, ctype, etag, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
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
