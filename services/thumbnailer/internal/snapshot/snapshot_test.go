package snapshot

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/testutil"
)

// JPEGBytes returns a small real JPEG.
func jpegBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	testutil.Must(t, jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h)), nil))
	return buf.Bytes()
}

func TestFetch(t *testing.T) {
	good := jpegBytes(t, 64, 48)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(good) }))
	t.Cleanup(other.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("/good.jpg", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(good) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/good.jpg", http.StatusFound) })
	mux.HandleFunc("/offhost", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/x.jpg", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/slowbody", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(good[:10])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length (streamed): the cap must stop the read.
		w.(http.Flusher).Flush()
		for range 64 {
			if _, err := w.Write(make([]byte, 16<<10)); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/hugelength", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000000")
		_, _ = w.Write(good)
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>login</html>")) })
	mux.HandleFunc("/truncated", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(good[:len(good)-40]) })
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f := New(Config{Timeout: 300 * time.Millisecond, MaxBytes: 64 << 10})

	tests := []struct {
		url    string
		reason string // "" = success
	}{
		{srv.URL + "/good.jpg", ""},
		{srv.URL + "/moved", ""},
		{srv.URL + "/offhost", ReasonRedirect},
		{srv.URL + "/loop", ReasonRedirect},
		{srv.URL + "/slow", ReasonTimeout},
		{srv.URL + "/slowbody", ReasonTimeout},
		{srv.URL + "/huge", ReasonTooLarge},
		{srv.URL + "/hugelength", ReasonTooLarge},
		{srv.URL + "/html", ReasonNotJPEG},
		{srv.URL + "/truncated", ReasonNotJPEG},
		{srv.URL + "/500", ReasonStatus},
		{"ftp://example.com/x.jpg", ReasonInvalidURL},
		{"file:///etc/passwd", ReasonInvalidURL},
		{"http://", ReasonInvalidURL},
		{"http://127.0.0.1:1/x.jpg", ReasonConnect},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			img, err := f.Fetch(t.Context(), tc.url)
			if tc.reason == "" {
				if err != nil || !bytes.Equal(img.Data, good) || img.Width != 64 || img.Height != 48 {
					t.Fatalf("got %dx%d %d bytes, err %v", img.Width, img.Height, len(img.Data), err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Reason != tc.reason || Reason(err) != tc.reason {
				t.Fatalf("err %v, want reason %s", err, tc.reason)
			}
		})
	}
}

func TestRedactAndReason(t *testing.T) {
	if got := redact("http://admin:secret@cam/x.jpg"); bytes.Contains([]byte(got), []byte("secret")) {
		t.Fatalf("redact kept the password: %s", got)
	}
	if Reason(errors.New("other")) != ReasonConnect {
		t.Fatal("foreign error reason")
	}
	_, err := New(Config{}).Fetch(t.Context(), "http://admin:secret@[::1/x")
	if err == nil || bytes.Contains([]byte(err.Error()), []byte("secret")) {
		t.Fatalf("invalid URL error %v", err)
	}
}
