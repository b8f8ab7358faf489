package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/layout"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/gateway/internal/index"
	"github.com/stills-video/stills/services/gateway/internal/latest"
)

// T0 is 2023-11-14T22:13:20Z.
const T0 = int64(1_700_000_000)

// failingStore fails Get for keys with a given prefix (the 500 path); it
// wraps a real local store.
type failingStore struct {
	blob.Store
	prefix string
}

func (f failingStore) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasPrefix(key, f.prefix) {
		return nil, errors.New("disk on fire")
	}
	return f.Store.Get(ctx, key)
}

type env struct {
	t     testing.TB
	db    *index.DB
	store blob.Store
	h     http.Handler
	ready bool
	seq   uint64
}

func stream(name string, mode config.Mode, seg time.Duration) config.Stream {
	st := config.Stream{Name: name, URL: "fake://x", SegmentDuration: config.Duration(seg)}
	st.Thumbnails.Enabled = mode
	st.FillDefaults()
	return st
}

func newEnv(t testing.TB) *env { t.Helper(); return newEnvWith(t, nil) }

// newEnvWith builds the env; opt may change the Deps before New.
func newEnvWith(t testing.TB, opt func(*Deps)) *env {
	t.Helper()
	db, err := index.Open(filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, store: failingStore{Store: local, prefix: "broken/"}, ready: true}
	streams := map[string]config.Stream{}
	for _, st := range []config.Stream{
		stream("site/a/cam1", config.ModeEnabled, 3*time.Second),
		stream("off", config.ModeDisabled, 10*time.Second),
		stream("od", config.ModeOnDemand, 3*time.Second),
		stream("empty", config.ModeEnabled, 3*time.Second),
	} {
		streams[st.Name] = st
	}
	d := Deps{
		Index: db, Store: e.store, Cache: latest.New(e.store),
		Stream: func(n string) (config.Stream, bool) { st, ok := streams[n]; return st, ok },
		Ready:  func() bool { return e.ready },
		Now:    func() time.Time { return time.Unix(T0+3600, 0) },
	}
	if opt != nil {
		opt(&d)
	}
	e.h, err = New(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, ms := range []int64{200, 3100, 6000, 30000} {
		e.add("site/a/cam1", T0*1000+ms, true, true, true)
	}
	e.add("off", T0*1000, true, true, true)
	e.add("off", T0*1000+15000, true, true, true)
	e.add("od", T0*1000, false, true, true)
	e.add("idx", T0*1000, true, true, true)
	e.add("lost", T0*1000, true, true, false)
	e.add("broken", T0*1000, true, true, true)
	return e
}

func jpegBytes(name string, ms int64) string { return fmt.Sprintf("jpeg %s@%d", name, ms) }
func mp4Bytes(name string, ms int64) string  { return fmt.Sprintf("mp4 %s@%d", name, ms) }

// add indexes a thumbnail and, when store is set, writes its objects.
func (e *env) add(name string, ms int64, withJPEG, withMP4, store bool) {
	e.t.Helper()
	t := layout.FromMillis(ms)
	ev := &stillsv1.ThumbnailStored{Stream: name, TimeMs: ms, Source: "decode"}
	put := func(key, data string) *stillsv1.StoredObject {
		if store {
			if err := e.store.Put(context.Background(), key, []byte(data), ""); err != nil {
				e.t.Fatal(err)
			}
		}
		return &stillsv1.StoredObject{Key: key, Bytes: int64(len(data))}
	}
	if withJPEG {
		ev.Jpegs = []*stillsv1.StoredObject{put(layout.JPEG(name, t), jpegBytes(name, ms))}
	}
	if withMP4 {
		ev.Mp4 = put(layout.MP4(name, t), mp4Bytes(name, ms))
	}
	e.seq++
	if _, err := e.db.Apply([]index.Message{{Seq: e.seq, Event: ev}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) do(method, target string, hdr ...string) *http.Response {
	e.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w.Result()
}

// dvr is the date URL of a second after T0.
func dvr(name string, dsec int64, suffix string) string {
	return "/" + name + "/" + layout.DatePath(time.Unix(T0+dsec, 0)) + suffix
}

func unixURL(name string, dsec int64, suffix string) string {
	return "/" + name + "/" + strconv.FormatInt(T0+dsec, 10) + suffix
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkErrorBody asserts the JSON error body of an error response.
func checkErrorBody(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	var eb errorBody
	if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
		t.Fatalf("error body: %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error content type %q", ct)
	}
	if len(eb.Errors) != 1 || eb.Errors[0].Status != strconv.Itoa(status) || eb.Errors[0].Code != code ||
		eb.Errors[0].Title == "" || eb.Error != eb.Errors[0].Title {
		t.Errorf("error body %+v, want status %d code %s", eb, status, code)
	}
}

func TestDateURLFormat(t *testing.T) {
	if got := dvr("site/a/cam1", 0, ".jpg"); got != "/site/a/cam1/2023/11/14/22/13/20.jpg" {
		t.Fatalf("date url %s", got)
	}
}

func TestRoutes(t *testing.T) {
	e := newEnv(t)
	const cam = "site/a/cam1"
	ms := func(d int64) int64 { return T0*1000 + d }
	for _, tc := range []struct {
		name     string
		method   string
		target   string
		status   int
		ctype    string
		cache    string
		body     string // exact body, when set
		location string
		code     string // error code, for error statuses
	}{
		{"preview jpg", "GET", "/" + cam + "/preview.jpg", 200, "image/jpeg", cacheNoCache, jpegBytes(cam, ms(30000)), "", ""},
		{"preview jpg head", "HEAD", "/" + cam + "/preview.jpg", 200, "image/jpeg", cacheNoCache, "", "", ""},
		{"preview mp4", "GET", "/" + cam + "/preview.mp4", 200, "video/mp4", cacheNoCache, mp4Bytes(cam, ms(30000)), "", ""},
		{"dvr jpg exact", "GET", dvr(cam, 0, ".jpg"), 200, "image/jpeg", cacheImmutable, jpegBytes(cam, ms(200)), "", ""},
		{"dvr jpg exact head", "HEAD", dvr(cam, 3, ".jpg"), 200, "image/jpeg", cacheImmutable, "", "", ""},
		{"dvr jpg nearest earlier", "GET", dvr(cam, 1, ".jpg"), 302, "", cacheNoCache, "", dvr(cam, 0, ".jpg"), ""},
		{"dvr jpg nearest later", "GET", dvr(cam, 5, ".jpg"), 302, "", cacheNoCache, "", dvr(cam, 6, ".jpg"), ""},
		{"dvr jpg keeps query", "GET", dvr(cam, 29, ".jpg?token=1-abc&x=%2F"), 302, "", "", "", dvr(cam, 30, ".jpg?token=1-abc&x=%2F"), ""},
		{"dvr jpg after all", "GET", dvr(cam, 9000, ".jpg"), 302, "", "", "", dvr(cam, 30, ".jpg"), ""},
		{"dvr mp4 exact", "GET", dvr(cam, 3, "-preview.mp4"), 200, "video/mp4", cacheImmutable, mp4Bytes(cam, ms(3100)), "", ""},
		{"dvr mp4 first after", "GET", dvr(cam, 4, "-preview.mp4?token=t"), 302, "", "", "", dvr(cam, 6, "-preview.mp4?token=t"), ""},
		{"dvr mp4 before all", "GET", dvr(cam, -100, "-preview.mp4"), 302, "", "", "", dvr(cam, 0, "-preview.mp4"), ""},
		{"dvr mp4 after all", "GET", dvr(cam, 31, "-preview.mp4"), 404, "", "", "", "", "not_found"},
		{"unix preview jpg", "GET", unixURL(cam, 4, "-preview.jpg?token=x"), 302, "", "", "", dvr(cam, 3, ".jpg?token=x"), ""},
		{"unix preview jpg exact", "GET", unixURL(cam, 30, "-preview.jpg"), 302, "", "", "", dvr(cam, 30, ".jpg"), ""},
		{"unix jpg", "GET", unixURL(cam, 5, ".jpg"), 200, "image/jpeg", cacheNoCache, jpegBytes(cam, ms(6000)), "", ""},
		{"unix jpg none", "GET", unixURL("empty", 5, ".jpg"), 404, "", "", "", "", "not_found"},
		{"unix preview mp4", "GET", unixURL(cam, 1, "-preview.mp4?a=b"), 302, "", "", "", dvr(cam, 3, "-preview.mp4?a=b"), ""},
		{"unix preview mp4 none", "GET", unixURL(cam, 31, "-preview.mp4"), 404, "", "", "", "", "not_found"},
		{"unix preview jpg none", "GET", unixURL("empty", 1, "-preview.jpg"), 404, "", "", "", "", "not_found"},
		{"disabled preview jpg", "GET", "/off/preview.jpg", 403, "", "", "", "", "forbidden"},
		{"disabled dvr jpg", "GET", dvr("off", 0, ".jpg"), 403, "", "", "", "", "forbidden"},
		{"disabled unix jpg", "GET", unixURL("off", 0, ".jpg"), 403, "", "", "", "", "forbidden"},
		{"disabled unix preview jpg", "GET", unixURL("off", 0, "-preview.jpg"), 403, "", "", "", "", "forbidden"},
		{"disabled preview mp4 stays", "GET", "/off/preview.mp4", 200, "video/mp4", "", mp4Bytes("off", ms(15000)), "", ""},
		{"disabled dvr mp4 stays", "GET", dvr("off", 0, "-preview.mp4"), 200, "video/mp4", "", mp4Bytes("off", ms(0)), "", ""},
		{"ondemand preview jpg without jpeg", "GET", "/od/preview.jpg", 404, "", "", "", "", "not_found"},
		{"ondemand dvr jpg without jpeg", "GET", dvr("od", 0, ".jpg"), 404, "", "", "", "", "not_found"},
		{"ondemand preview mp4", "GET", "/od/preview.mp4", 200, "video/mp4", "", mp4Bytes("od", ms(0)), "", ""},
		{"index-only stream", "GET", "/idx/preview.jpg", 200, "image/jpeg", "", jpegBytes("idx", ms(0)), "", ""},
		{"configured, nothing yet", "GET", "/empty/preview.jpg", 404, "", "", "", "", "not_found"},
		{"configured, no mp4 yet", "GET", "/empty/preview.mp4", 404, "", "", "", "", "not_found"},
		{"unknown stream", "GET", "/nope/preview.jpg", 404, "", "", "", "", "not_found"},
		{"unknown stream dvr", "GET", dvr("a/b/c", 0, ".jpg"), 404, "", "", "", "", "not_found"},
		{"object missing in store", "GET", dvr("lost", 0, ".jpg"), 404, "", "", "", "", "not_found"},
		{"object missing, preview", "GET", "/lost/preview.mp4", 404, "", "", "", "", "not_found"},
		{"store failure", "GET", dvr("broken", 0, ".jpg"), 500, "", "", "", "", "internal"},
		{"store failure, preview", "GET", "/broken/preview.jpg", 500, "", "", "", "", "internal"},
		{"unknown file", "GET", "/" + cam + "/index.html", 404, "", "", "", "", "not_found"},
		{"unix mp4 not a form", "GET", unixURL(cam, 0, ".mp4"), 404, "", "", "", "", "not_found"},
		{"bad month", "GET", "/" + cam + "/2023/13/14/22/13/20.jpg", 400, "", "", "", "", "bad_request"},
		{"bad day", "GET", "/" + cam + "/2023/02/30/00/00/00.jpg", 400, "", "", "", "", "bad_request"},
		{"bad second", "GET", "/" + cam + "/2023/11/14/22/13/60-preview.mp4", 400, "", "", "", "", "bad_request"},
		{"unix too large", "GET", "/" + cam + "/99999999999999.jpg", 400, "", "", "", "", "bad_request"},
		{"post", "POST", "/" + cam + "/preview.jpg", 405, "", "", "", "", "method_not_allowed"},
		{"healthz", "GET", "/healthz", 200, "application/json", "", "{\"status\":\"ok\"}\n", "", ""},
		{"readyz", "GET", "/readyz", 200, "application/json", "", "", "", ""},
		{"root is the live wall", "GET", "/", 200, "text/html; charset=utf-8", "no-cache", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(tc.method, tc.target)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, body(t, resp))
			}
			h := resp.Header
			if tc.ctype != "" && h.Get("Content-Type") != tc.ctype {
				t.Errorf("content type %q, want %q", h.Get("Content-Type"), tc.ctype)
			}
			if tc.cache != "" && h.Get("Cache-Control") != tc.cache {
				t.Errorf("cache control %q, want %q", h.Get("Cache-Control"), tc.cache)
			}
			if h.Get("Location") != tc.location {
				t.Errorf("location %q, want %q", h.Get("Location"), tc.location)
			}
			if tc.code != "" {
				checkErrorBody(t, resp, tc.status, tc.code)
				return
			}
			got := body(t, resp)
			if tc.method == "HEAD" {
				if got != "" || h.Get("Content-Length") == "" || h.Get("Content-Length") == "0" {
					t.Errorf("HEAD: body %q length %q", got, h.Get("Content-Length"))
				}
			} else if tc.body != "" && got != tc.body {
				t.Errorf("body %q, want %q", got, tc.body)
			}
			if tc.status == 200 && (strings.HasPrefix(tc.ctype, "image/") || strings.HasPrefix(tc.ctype, "video/")) {
				if !strings.HasPrefix(h.Get("ETag"), `"`) {
					t.Errorf("no strong ETag: %q", h.Get("ETag"))
				}
			}
		})
	}
}

func TestETagAnd304(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{
		"/site/a/cam1/preview.jpg", "/site/a/cam1/preview.mp4", dvr("site/a/cam1", 0, ".jpg"),
		dvr("site/a/cam1", 3, "-preview.mp4"), unixURL("site/a/cam1", 5, ".jpg"),
	} {
		t.Run(target, func(t *testing.T) {
			etag := e.do("GET", target).Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
				resp := e.do("GET", target, "If-None-Match", inm)
				if resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != etag || body(t, resp) != "" {
					t.Errorf("If-None-Match %s: %d etag %q", inm, resp.StatusCode, resp.Header.Get("ETag"))
				}
			}
			if resp := e.do("GET", target, "If-None-Match", `"stale"`); resp.StatusCode != 200 {
				t.Errorf("stale ETag: %d", resp.StatusCode)
			}
		})
	}
	// The live preview and the archive URL of the same keyframe agree;
	// a new keyframe changes the preview's ETag.
	a := e.do("GET", "/site/a/cam1/preview.jpg").Header.Get("ETag")
	b := e.do("GET", dvr("site/a/cam1", 30, ".jpg")).Header.Get("ETag")
	if a != b {
		t.Fatalf("preview %s, archive %s", a, b)
	}
	e.add("site/a/cam1", (T0+33)*1000, true, true, true)
	resp := e.do("GET", "/site/a/cam1/preview.jpg", "If-None-Match", a)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == a || body(t, resp) != jpegBytes("site/a/cam1", (T0+33)*1000) {
		t.Fatalf("after a new keyframe: %d %s", resp.StatusCode, resp.Header.Get("ETag"))
	}
}

func TestPreviewServedFromMemory(t *testing.T) {
	e := newEnv(t)
	const cam = "site/a/cam1"
	if got := body(t, e.do("GET", "/"+cam+"/preview.jpg")); got != jpegBytes(cam, (T0+30)*1000) {
		t.Fatalf("first: %q", got)
	}
	// Remove the object: the cached bytes still answer the live preview
	// and its archive URL.
	if err := e.store.Delete(context.Background(), layout.JPEG(cam, time.Unix(T0+30, 0))); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/" + cam + "/preview.jpg", dvr(cam, 30, ".jpg")} {
		if resp := e.do("GET", target); resp.StatusCode != 200 {
			t.Fatalf("%s after delete: %d", target, resp.StatusCode)
		}
	}
}

func TestRangeRequest(t *testing.T) {
	e := newEnv(t)
	resp := e.do("GET", "/site/a/cam1/preview.mp4", "Range", "bytes=0-2")
	if resp.StatusCode != http.StatusPartialContent || body(t, resp) != "mp4" {
		t.Fatalf("range: %d", resp.StatusCode)
	}
}

func TestReadyz(t *testing.T) {
	e := newEnv(t)
	e.ready = false
	resp := e.do("GET", "/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz while catching up: %d", resp.StatusCode)
	}
	checkErrorBody(t, resp, 503, "not_ready")
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/site/a/cam1/preview.jpg")
	e.do("GET", "/nope/preview.jpg")
	got := body(t, e.do("GET", "/metrics"))
	for _, want := range []string{
		`stills_gateway_requests_total{code="200",route="preview_jpg"} 1`,
		`stills_gateway_requests_total{code="404",route="preview_jpg"} 1`,
		`stills_gateway_request_seconds_bucket`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestClassifyCancelled(t *testing.T) {
	if st, code, public := classify(fmt.Errorf("get: %w", context.Canceled)); st != 503 || code != "unavailable" || public {
		t.Fatalf("%d %s %v", st, code, public)
	}
}

func BenchmarkPreviewJPEG(b *testing.B) {
	e := newEnv(b)
	r := httptest.NewRequest("GET", "/site/a/cam1/preview.jpg", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
