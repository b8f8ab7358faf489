package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamstore"
	"github.com/stills-video/stills/pkg/testutil"
)

// startWithStore runs a gateway whose settings follow a stream store.
func (w *world) startWithStore(st *streamstore.Store, key string, log *slog.Logger) *Service {
	w.t.Helper()
	s, err := New(Config{Listen: "127.0.0.1:0", DataDir: w.dataDir, StreamStore: st, AdminKey: key, Log: log}, w.js, w.store)
	testutil.Must(w.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Run(ctx); err != nil {
			w.t.Errorf("run: %v", err)
		}
	})
	w.t.Cleanup(func() { cancel(); wg.Wait() })
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if _, err := s.WaitListening(wctx); err != nil {
		w.t.Fatalf("not listening: %v", err)
	}
	return s
}

func do(t *testing.T, s *Service, method, path, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, strings.NewReader(body))
	testutil.Must(t, err)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	testutil.Must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	testutil.Must(t, err)
	return resp.StatusCode, string(b)
}

func waitStatus(t *testing.T, s *Service, path string, want int) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() error {
		if code, body, _ := get(t, s, path); code != want {
			return fmt.Errorf("GET %s: %d %s, want %d", path, code, body, want)
		}
		return nil
	})
}

// The settings follow the KV without a restart, and the admin API is
// mounted with its key.
func TestService_StreamStore(t *testing.T) {
	w := newWorld(t)
	ctx := testutil.Context(t)
	st, err := streamstore.Open(ctx, w.js, streamstore.Options{})
	testutil.Must(t, err)
	testutil.Must(t, st.Put(ctx, config.Stream{Name: "site/cam1", URL: "fake://cam1"}))
	w.thumb("site/cam1", base)
	w.thumb("site/cam1", base+3000)
	const key = "k3y"
	s := w.startWithStore(st, key, nil)
	waitApplied(t, s, 2)
	waitStatus(t, s, "/site/cam1/preview.jpg", http.StatusOK)

	if code, _ := do(t, s, "GET", "/api/streams", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("admin API without the key: %d", code)
	}
	code, body := do(t, s, "PUT", "/api/streams/site/cam1", key, `{"url":"fake://cam1","thumbnails":{"enabled":false}}`)
	if code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	waitStatus(t, s, "/site/cam1/preview.jpg", http.StatusForbidden)
	if code, _, _ := get(t, s, "/site/cam1/preview.mp4"); code != http.StatusOK {
		t.Fatalf("preview.mp4 of a JPEG-disabled stream: %d", code)
	}
	do(t, s, "PUT", "/api/streams/site/cam1", key, `{"url":"fake://cam1"}`)
	waitStatus(t, s, "/site/cam1/preview.jpg", http.StatusOK)

	code, body = do(t, s, "GET", "/api/streams", key, "")
	var list []struct {
		Name            string `json:"name"`
		Status          string `json:"status"`
		ThumbnailsTotal int    `json:"thumbnails_total"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil || len(list) != 1 ||
		list[0].ThumbnailsTotal != 2 || list[0].Status != "starting" {
		t.Fatalf("list: %d %s", code, body)
	}
	// The thumbnail API still answers beside the admin API, and other
	// /api/ paths are not the admin's.
	for path, want := range map[string]int{"/healthz": 200, "/api/nope": 404, "/nope/preview.jpg": 404} {
		if code, body, _ := get(t, s, path); code != want {
			t.Errorf("GET %s: %d %s, want %d", path, code, body, want)
		}
	}
}

func TestService_NoStoreNoAdmin(t *testing.T) {
	w := newWorld(t)
	s, _ := w.start()
	if code, _, _ := get(t, s, "/api/streams"); code != http.StatusNotFound {
		t.Fatalf("/api/streams without a stream store: %d, want 404", code)
	}
}

func TestRegistry_Replace(t *testing.T) {
	now := time.Unix(1000, 0)
	r, err := newRegistry([]config.Stream{{Name: "a", URL: "fake://a"}, {Name: "b", URL: "fake://b"}})
	testutil.Must(t, err)
	r.now = func() time.Time { return now }
	r.replace([]config.Stream{{Name: "a", URL: "fake://a"}, {Name: "b", URL: "fake://changed"}, {Name: "c", URL: "fake://c"}, {Name: "../x"}})
	if t0, _ := r.seenAt("a"); t0.Equal(now) {
		t.Error("unchanged stream a: seen time reset")
	}
	for _, n := range []string{"b", "c"} {
		if t0, ok := r.seenAt(n); !ok || !t0.Equal(now) {
			t.Errorf("%s: seen %v %v, want now", n, t0, ok)
		}
	}
	if s, ok := r.get("a"); !ok || s.SegmentDuration.D() != config.DefaultSegmentDuration {
		t.Errorf("a: %+v %v (defaults filled)", s, ok)
	}
	if _, ok := r.get("../x"); ok {
		t.Error("invalid name kept")
	}
	r.replace(nil)
	if _, ok := r.get("a"); ok {
		t.Error("a kept after it was removed")
	}
	if _, err := newRegistry([]config.Stream{{Name: "a//b"}}); err == nil {
		t.Error("newRegistry accepted an invalid name")
	}
}

func TestAdminOpenWarning(t *testing.T) {
	for addr, warn := range map[string]bool{"127.0.0.1:8080": false, "[::1]:80": false, "0.0.0.0:8080": true,
		"[::]:8080": true, "10.1.2.3:8080": true, "host:80": true} {
		var buf bytes.Buffer
		adminOpenWarning(slog.New(slog.NewTextHandler(&buf, nil)), addr)
		if got := strings.Contains(buf.String(), "admin_key"); got != warn {
			t.Errorf("%s: warned %v, want %v (%s)", addr, got, warn, buf.String())
		}
	}
}
