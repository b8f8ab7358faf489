package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, httptest.NewRequest(method, "/", nil))
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s /: %d %v", method, rec.Code, rec.Header())
		}
		body := rec.Body.String()
		if method == http.MethodGet && (!strings.Contains(body, "/api/streams") || !strings.Contains(body, "preview.jpg")) {
			t.Fatal("the page does not use the API it is built on")
		}
		if method == http.MethodHead && body != "" {
			t.Fatal("HEAD with a body")
		}
	}
}
