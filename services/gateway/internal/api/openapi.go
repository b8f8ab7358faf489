package api

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openapiDoc is the hand-written OpenAPI 3 description of this API.
//
//go:embed openapi.json
var openapiDoc []byte

func (a *api) openapi(w http.ResponseWriter, _ *http.Request) {
	setRoute(w, "openapi")
	cors(w.Header())
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheNoCache)
	h.Set("Content-Length", strconv.Itoa(len(openapiDoc)))
	w.WriteHeader(http.StatusOK)
	w.Write(openapiDoc)
}
