// Package ui is the gateway's web page at "/": a live wall of every
// stream's latest thumbnail, built only on the public API (GET
// /api/streams, /{name}/preview.jpg). It is the seam the full web UI (live
// wall, day wall with a timeline) grows from.
package ui

import (
	_ "embed"
	"net/http"
	"strconv"
)

//go:embed index.html
var page []byte

// Handler serves the page.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(page)))
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
		if r.Method == http.MethodHead {
			return
		}
		w.Write(page)
	})
}
