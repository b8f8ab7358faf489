package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamstore"
	"github.com/stills-video/stills/pkg/testutil"
	"github.com/stills-video/stills/services/gateway/internal/admin"
)

const key = "s3cret-admin-key"

type env struct {
	base  string
	store *streamstore.Store
	ctx   context.Context
	key   string
}

// start serves the admin API mounted at /api/streams, as the gateway
// does, on a real embedded NATS KV.
func start(t *testing.T, d admin.Deps) *env {
	t.Helper()
	n := testutil.StartNATS(t)
	ctx := testutil.Context(t)
	st, err := streamstore.Open(ctx, n.JS, streamstore.Options{})
	testutil.Must(t, err)
	d.Store = st
	h, err := admin.New(d)
	testutil.Must(t, err)
	root := chi.NewRouter()
	root.Mount("/api/streams", h)
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	return &env{base: srv.URL + "/api/streams", store: st, ctx: ctx, key: d.Key}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(t *testing.T, method, path, body string, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	testutil.Must(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	testutil.Must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	testutil.Must(t, err)
	return reply{resp.StatusCode, resp.Header, b}
}

// problem decodes the JSON error body and checks its shape.
func problem(t *testing.T, r reply) string {
	t.Helper()
	var p struct {
		Errors []struct{ Status, Code, Title string } `json:"errors"`
		Error  string                                 `json:"error"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil || len(p.Errors) != 1 || p.Error != p.Errors[0].Title ||
		r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("not a JSON error body: %d %s (%v)", r.status, r.body, err)
	}
	return p.Error
}

func views(t *testing.T, r reply) []admin.View {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var vs []admin.View
	testutil.Must(t, json.Unmarshal(r.body, &vs))
	return vs
}

func TestAuth(t *testing.T) {
	e := start(t, admin.Deps{Key: key})
	testutil.Must(t, e.store.Put(e.ctx, config.Stream{Name: "a", URL: "fake://a"}))
	const body = `{"url":"fake://b"}`
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer s3cret", "Bearer " + key + "x", "Bearer S3CRET-ADMIN-KEY",
		"Basic " + key, key, "Bearer  " + key} {
		for _, m := range []struct{ method, path, body string }{
			{"GET", "", ""}, {"GET", "/a", ""}, {"PUT", "/b", body}, {"DELETE", "/a", ""},
		} {
			r := e.do(t, m.method, m.path, m.body, "Authorization", auth)
			if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with %q: %d %v, want 401 with a Bearer challenge", m.method, m.path, auth, r.status, r.header)
			}
			problem(t, r)
		}
	}
	// Refused requests changed nothing.
	if ss, _ := e.store.List(e.ctx); len(ss) != 1 || ss[0].Name != "a" {
		t.Fatalf("after refused requests the store holds %+v", ss)
	}
	for _, auth := range []string{"Bearer " + key, "bearer " + key} {
		if r := e.do(t, "GET", "/a", "", "Authorization", auth); r.status != http.StatusOK {
			t.Errorf("GET with %q: %d %s", auth, r.status, r.body)
		}
	}
	if r := e.do(t, "DELETE", "/a", ""); r.status != http.StatusNoContent {
		t.Errorf("DELETE with the key: %d %s", r.status, r.body)
	}
}

func TestOpenWithoutKey(t *testing.T) {
	e := start(t, admin.Deps{})
	if r := e.do(t, "PUT", "/x", `{"url":"fake://x"}`); r.status != http.StatusCreated {
		t.Fatalf("PUT without a configured key: %d %s", r.status, r.body)
	}
}

func TestCRUD(t *testing.T) {
	counts := map[string]int{"site/cam": 7}
	e := start(t, admin.Deps{Key: key, Count: func(n string) (int, error) { return counts[n], nil }})
	if vs := views(t, e.do(t, "GET", "", "")); len(vs) != 0 {
		t.Fatalf("empty list: %+v", vs)
	}
	r := e.do(t, "PUT", "/site/cam", `{"name":"site/cam","url":"rtsp://admin:pw@10.0.0.1/ch1","thumbnails":{"enabled":"ondemand","sizes":[{"width":320,"height":180}]}}`)
	if r.status != http.StatusCreated || r.header.Get("Location") != "/api/streams/site/cam" {
		t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
	}
	var v admin.View
	testutil.Must(t, json.Unmarshal(r.body, &v))
	if v.Name != "site/cam" || v.URL != "rtsp://admin:xxxxx@10.0.0.1/ch1" || v.Status != "starting" ||
		v.SegmentDuration.D() != config.DefaultSegmentDuration || v.Thumbnails.Quality != config.DefaultQuality ||
		v.Thumbnails.Enabled != config.ModeOnDemand || v.ThumbnailsTotal != 7 || v.DVR.Retention.D() != config.DefaultRetention {
		t.Fatalf("created view %+v", v)
	}
	if strings.Contains(string(r.body), "pw@") {
		t.Fatalf("password leaked: %s", r.body)
	}
	got, err := e.store.Get(e.ctx, "site/cam")
	if err != nil || got.URL != "rtsp://admin:pw@10.0.0.1/ch1" || len(got.Thumbnails.Sizes) != 1 {
		t.Fatalf("stored %+v, %v", got, err)
	}

	// Replace: the redacted URL sent back keeps the stored password.
	r = e.do(t, "PUT", "/site/cam", `{"url":"rtsp://admin:xxxxx@10.0.0.1/ch1","thumbnails":{"quality":55}}`)
	if r.status != http.StatusOK {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	got, _ = e.store.Get(e.ctx, "site/cam")
	if got.URL != "rtsp://admin:pw@10.0.0.1/ch1" || got.Thumbnails.Quality != 55 || len(got.Thumbnails.Sizes) != 0 ||
		got.Thumbnails.Enabled != config.ModeEnabled {
		t.Fatalf("replaced %+v (a PUT replaces the whole stream)", got)
	}
	// A new password is taken.
	e.do(t, "PUT", "/site/cam", `{"url":"rtsp://admin:new@10.0.0.1/ch1"}`)
	if got, _ = e.store.Get(e.ctx, "site/cam"); got.URL != "rtsp://admin:new@10.0.0.1/ch1" {
		t.Fatalf("new password not stored: %s", got.URL)
	}

	e.do(t, "PUT", "/a", `{"url":"fake://a"}`)
	vs := views(t, e.do(t, "GET", "", ""))
	if len(vs) != 2 || vs[0].Name != "a" || vs[1].Name != "site/cam" || vs[1].ThumbnailsTotal != 7 {
		t.Fatalf("list %+v", vs)
	}
	r = e.do(t, "GET", "/site/cam", "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"url":"rtsp://admin:xxxxx@10.0.0.1/ch1"`) {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	if r := e.do(t, "DELETE", "/site/cam", ""); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for _, m := range []string{"GET", "DELETE"} {
		r := e.do(t, m, "/site/cam", "")
		if r.status != http.StatusNotFound {
			t.Errorf("%s after delete: %d %s", m, r.status, r.body)
		}
		problem(t, r)
	}
	if vs := views(t, e.do(t, "GET", "", "")); len(vs) != 1 || vs[0].Name != "a" {
		t.Fatalf("list after delete %+v", vs)
	}
}

func TestStatusMerge(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	seen := map[string]time.Time{"new": now.Add(-time.Second), "dead": now.Add(-time.Minute)}
	e := start(t, admin.Deps{
		Now:   func() time.Time { return now },
		Seen:  func(n string) (time.Time, bool) { s, ok := seen[n]; return s, ok },
		Count: func(string) (int, error) { return 3, nil },
	})
	for _, n := range []string{"new", "dead", "live", "broken"} {
		testutil.Must(t, e.store.Put(e.ctx, config.Stream{Name: n, URL: "fake://" + n}))
	}
	kf := now.Add(-2 * time.Second)
	testutil.Must(t, e.store.PutStatus(e.ctx, streamstore.Status{Name: "live", Status: "online", LastKeyframeAt: kf,
		Segments: 40, Errors: 1, Ingest: "ingest-1", UpdatedAt: now}))
	testutil.Must(t, e.store.PutStatus(e.ctx, streamstore.Status{Name: "broken", Status: "error", Errors: 9,
		Error: "dial tcp: connection refused"}))
	testutil.Must(t, e.store.PutStatus(e.ctx, streamstore.Status{Name: "gone", Status: "online"}))
	vs := views(t, e.do(t, "GET", "", ""))
	byName := map[string]admin.View{}
	for _, v := range vs {
		byName[v.Name] = v
	}
	if len(vs) != 4 {
		t.Fatalf("list %+v: a status without a configured stream must not be listed", vs)
	}
	if v := byName["new"]; v.Status != "starting" || v.LastKeyframeAt != nil || v.Error != "" {
		t.Errorf("new: %+v", v)
	}
	if v := byName["dead"]; v.Status != "offline" {
		t.Errorf("dead (no status for a minute): %+v", v)
	}
	if v := byName["live"]; v.Status != "online" || v.LastKeyframeAt == nil || !v.LastKeyframeAt.Equal(kf) ||
		v.SegmentsTotal != 40 || v.ErrorsTotal != 1 || v.Ingest != "ingest-1" || v.ThumbnailsTotal != 3 {
		t.Errorf("live: %+v", v)
	}
	if v := byName["broken"]; v.Status != "error" || v.ErrorsTotal != 9 || v.Error != "dial tcp: connection refused" {
		t.Errorf("broken: %+v", v)
	}
	// The raw JSON has every documented key.
	var raw []map[string]any
	testutil.Must(t, json.Unmarshal(e.do(t, "GET", "", "").body, &raw))
	for _, k := range []string{"name", "url", "status", "last_keyframe_at", "thumbnails_total", "errors_total", "error",
		"segment_duration", "thumbnails", "dvr"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("list item lacks %q: %v", k, raw[0])
		}
	}
	// A delete also forgets the status.
	e.do(t, "DELETE", "/live", "")
	if all, _ := e.store.Statuses(e.ctx); all["live"].Name != "" {
		t.Errorf("status of a deleted stream kept: %+v", all["live"])
	}
}

func TestCountError(t *testing.T) {
	e := start(t, admin.Deps{Count: func(string) (int, error) { return 0, errors.New("disk on fire") }})
	testutil.Must(t, e.store.Put(e.ctx, config.Stream{Name: "a", URL: "fake://a"}))
	for _, p := range []string{"", "/a"} {
		r := e.do(t, "GET", p, "")
		if r.status != http.StatusInternalServerError || strings.Contains(problem(t, r), "fire") {
			t.Errorf("GET %q with a failing index: %d %s (500 without details)", p, r.status, r.body)
		}
	}
}

func TestValidation(t *testing.T) {
	e := start(t, admin.Deps{Key: key})
	for _, tc := range []struct{ name, body, field string }{
		{"no url", `{}`, "url: must not be empty"},
		{"bad scheme", `{"url":"gopher://x"}`, "url: "},
		{"url type", `{"url":42}`, "url: must be a string"},
		{"name mismatch", `{"name":"other","url":"fake://a"}`, "name: "},
		{"name type", `{"name":1,"url":"fake://a"}`, "name: "},
		{"segment_duration syntax", `{"url":"fake://a","segment_duration":"soon"}`, "segment_duration: "},
		{"segment_duration number", `{"url":"fake://a","segment_duration":3}`, "segment_duration: "},
		{"segment_duration range", `{"url":"fake://a","segment_duration":"1ms"}`, "segment_duration: must be between"},
		{"enabled", `{"url":"fake://a","thumbnails":{"enabled":"maybe"}}`, "thumbnails.enabled: "},
		{"quality range", `{"url":"fake://a","thumbnails":{"quality":101}}`, "thumbnails.quality: must be between 1 and 100"},
		{"quality type", `{"url":"fake://a","thumbnails":{"quality":"high"}}`, "thumbnails.quality: must be an integer"},
		{"snapshot url", `{"url":"fake://a","thumbnails":{"url":"ftp://x/y"}}`, "thumbnails.url: "},
		{"sizes range", `{"url":"fake://a","thumbnails":{"sizes":[{"width":320,"height":180},{"width":1,"height":1}]}}`, "thumbnails.sizes[1]: "},
		{"sizes type", `{"url":"fake://a","thumbnails":{"sizes":[{"width":"wide","height":1}]}}`, "thumbnails.sizes.width: "},
		{"sizes unknown", `{"url":"fake://a","thumbnails":{"sizes":[{"w":1}]}}`, "thumbnails.sizes: unknown field"},
		{"thumbnails type", `{"url":"fake://a","thumbnails":true}`, "thumbnails: must be an object"},
		{"thumbnails unknown", `{"url":"fake://a","thumbnails":{"fps":1}}`, `thumbnails: unknown field "fps"`},
		{"retention", `{"url":"fake://a","dvr":{"retention":"1s"}}`, "dvr.retention: "},
		{"dvr unknown", `{"url":"fake://a","dvr":{"days":1}}`, `dvr: unknown field "days"`},
		{"unknown field", `{"url":"fake://a","codec":"h265"}`, `body: unknown field "codec"`},
		{"bad JSON", `{"url":"fake://a",`, "body: "},
		{"not JSON", `url=fake://a`, "body: invalid JSON"},
		{"trailing data", `{"url":"fake://a"} {"url":"fake://b"}`, "body: trailing data"},
		{"array", `[{"url":"fake://a"}]`, "body: must be an object"},
		{"null", `null`, "body: must be a JSON object"},
		{"blank", ` `, "body: must be a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "PUT", "/cam", tc.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", r.status, r.body)
			}
			if title := problem(t, r); !strings.HasPrefix(title, tc.field) {
				t.Fatalf("title %q does not start with %q", title, tc.field)
			}
		})
	}
	// A replace that fails leaves the old stream as it was.
	testutil.Must(t, e.store.Put(e.ctx, config.Stream{Name: "keep", URL: "fake://keep"}))
	if r := e.do(t, "PUT", "/keep", `{"url":"fake://new","thumbnails":{"quality":0.5}}`); r.status != http.StatusBadRequest {
		t.Fatalf("bad replace: %d %s", r.status, r.body)
	}
	if ss, _ := e.store.List(e.ctx); len(ss) != 1 || ss[0].URL != "fake://keep" {
		t.Fatalf("a refused PUT changed the store: %+v", ss)
	}
}

func TestBodyLimits(t *testing.T) {
	e := start(t, admin.Deps{})
	big := `{"url":"fake://a","name":"` + strings.Repeat("a", admin.MaxBody) + `"}`
	for _, tc := range []struct {
		name, body string
		hdr        []string
		want       int
	}{
		{"too large", big, nil, http.StatusRequestEntityTooLarge},
		{"no content type", `{"url":"fake://a"}`, []string{"Content-Type", ""}, http.StatusUnsupportedMediaType},
		{"form", `url=fake://a`, []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"bad media type", `{"url":"fake://a"}`, []string{"Content-Type", "application/json; ="}, http.StatusUnsupportedMediaType},
		{"charset ok", `{"url":"fake://a"}`, []string{"Content-Type", "application/json; charset=utf-8"}, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "PUT", "/a", tc.body, tc.hdr...)
			if r.status != tc.want {
				t.Fatalf("%d %s, want %d", r.status, r.body, tc.want)
			}
			if tc.want >= 400 {
				problem(t, r)
			}
		})
	}
}

func TestHostileNames(t *testing.T) {
	e := start(t, admin.Deps{})
	testutil.Must(t, e.store.Put(e.ctx, config.Stream{Name: "ok", URL: "fake://ok"}))
	for _, p := range []string{"/..", "/%2e%2e", "/a/../ok", "/a/%2E%2E/ok", "/.", "/a//b", "/a/", "/%00", "/a%00b",
		"/a%2F..%2Fok", "/a%20b", "/" + strings.Repeat("a", 201), "/caf%C3%A9", "/a%5Cb"} {
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			body := ""
			if m == "PUT" {
				body = `{"url":"fake://x"}`
			}
			r := e.do(t, m, p, body)
			if r.status != http.StatusBadRequest {
				t.Errorf("%s %s: %d %s, want 400", m, p, r.status, r.body)
				continue
			}
			if title := problem(t, r); !strings.HasPrefix(title, "name: ") {
				t.Errorf("%s %s: title %q does not name the field", m, p, title)
			}
		}
	}
	if ss, _ := e.store.List(e.ctx); len(ss) != 1 {
		t.Fatalf("hostile requests changed the store: %+v", ss)
	}
	// An escaped '/' is a name separator, decoded once: a%2Fb is a/b,
	// a%252Fb is "a%2Fb" (refused), never a/b.
	if r := e.do(t, "PUT", "/x%2Fy", `{"url":"fake://x"}`); r.status != http.StatusCreated {
		t.Fatalf("PUT x%%2Fy: %d %s", r.status, r.body)
	}
	if _, err := e.store.Get(e.ctx, "x/y"); err != nil {
		t.Fatalf("x%%2Fy not stored as x/y: %v", err)
	}
	if r := e.do(t, "GET", "/x%252Fy", ""); r.status != http.StatusBadRequest {
		t.Fatalf("GET x%%252Fy: %d %s", r.status, r.body)
	}
}

func TestMethods(t *testing.T) {
	e := start(t, admin.Deps{})
	for _, tc := range []struct{ method, path, allow string }{
		{"POST", "", "GET"}, {"DELETE", "", "GET"}, {"PATCH", "/a", "GET, PUT, DELETE"}, {"POST", "/a", "GET, PUT, DELETE"},
	} {
		r := e.do(t, tc.method, tc.path, "")
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != tc.allow {
			t.Errorf("%s %q: %d Allow %q, want 405 Allow %q", tc.method, tc.path, r.status, r.header.Get("Allow"), tc.allow)
		}
		problem(t, r)
	}
}

func TestNewNeedsStore(t *testing.T) {
	if _, err := admin.New(admin.Deps{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}
