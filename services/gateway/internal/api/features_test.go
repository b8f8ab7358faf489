package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/gateway/internal/index"
	"github.com/stills-video/stills/services/gateway/internal/render"
)

// addSized indexes a thumbnail of cam with three sizes at T0+dsec.
func (e *env) addSized(name string, dsec int64) {
	e.t.Helper()
	tm := time.Unix(T0+dsec, 0)
	ev := &stillsv1.ThumbnailStored{Stream: name, TimeMs: tm.UnixMilli()}
	for _, s := range []struct {
		key  string
		w, h uint32
	}{
		{layout.JPEG(name, tm), 1920, 1080},
		{layout.SizedJPEG(name, tm, 640, 360), 640, 360},
		{layout.SizedJPEG(name, tm, 320, 320), 320, 180},
	} {
		if err := e.store.Put(context.Background(), s.key, []byte(s.key), ""); err != nil {
			e.t.Fatal(err)
		}
		ev.Jpegs = append(ev.Jpegs, &stillsv1.StoredObject{Key: s.key, Bytes: int64(len(s.key)), Width: s.w, Height: s.h})
	}
	e.seq++
	if _, err := e.db.Apply([]index.Message{{Seq: e.seq, Event: ev}}); err != nil {
		e.t.Fatal(err)
	}
}

func TestSizes(t *testing.T) {
	e := newEnv(t)
	const cam = "site/a/cam1"
	e.addSized(cam, 60)
	tm := time.Unix(T0+60, 0)
	big, mid, small := layout.JPEG(cam, tm), layout.SizedJPEG(cam, tm, 640, 360), layout.SizedJPEG(cam, tm, 320, 320)
	etags := map[string]string{}
	for _, tc := range []struct {
		query  string
		status int
		want   string
	}{
		{"", 200, big},
		{"?width=300", 200, small},
		{"?width=320", 200, small},
		{"?width=321", 200, mid},
		{"?height=181", 200, mid},
		{"?width=320&height=200", 200, mid},
		{"?width=4000", 200, big},
		{"?width=1920&height=1080", 200, big},
		{"?width=0", 400, ""},
		{"?width=abc", 400, ""},
		{"?height=9000", 400, ""},
		{"?width=-5", 400, ""},
	} {
		for _, target := range []string{"/" + cam + "/preview.jpg", dvr(cam, 60, ".jpg"), unixURL(cam, 60, ".jpg")} {
			resp := e.do("GET", target+tc.query)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s%s: %d, want %d", target, tc.query, resp.StatusCode, tc.status)
			}
			if tc.status != 200 {
				checkErrorBody(t, resp, 400, "bad_request")
				continue
			}
			if got := body(t, resp); got != tc.want {
				t.Errorf("%s%s served %s, want %s", target, tc.query, got, tc.want)
			}
			etag := resp.Header.Get("ETag")
			if prev, ok := etags[tc.want]; ok && prev != etag {
				t.Errorf("%s: ETag %s differs from %s for the same object", target+tc.query, etag, prev)
			}
			etags[tc.want] = etag
		}
	}
	if etags[big] == etags[small] || etags[mid] == etags[small] {
		t.Fatal("sizes share an ETag")
	}
	// The MP4 URL ignores the size query.
	if resp := e.do("GET", dvr(cam, 3, "-preview.mp4?width=abc")); resp.StatusCode != 200 {
		t.Fatalf("mp4 with width: %d", resp.StatusCode)
	}
}

func TestPreviewMP4From(t *testing.T) {
	e := newEnv(t)
	const cam = "site/a/cam1"
	for _, tc := range []struct {
		from   string
		status int
		body   string
	}{
		{"1700000001", 200, mp4Bytes(cam, (T0+3)*1000+100)},
		{"1700000003", 200, mp4Bytes(cam, (T0+3)*1000+100)},
		{"1600000000", 200, mp4Bytes(cam, T0*1000+200)},
		{"1700000031", 404, ""},
		{"abc", 400, ""},
		{"-1", 400, ""},
	} {
		resp := e.do("GET", "/"+cam+"/preview.mp4?from="+tc.from)
		if resp.StatusCode != tc.status {
			t.Fatalf("from=%s: %d, want %d", tc.from, resp.StatusCode, tc.status)
		}
		if tc.status == 200 {
			if got := body(t, resp); got != tc.body || resp.Header.Get("Content-Location") == "" {
				t.Errorf("from=%s: %q (Content-Location %q)", tc.from, got, resp.Header.Get("Content-Location"))
			}
		}
	}
}

func TestCachingHeaders(t *testing.T) {
	e := newEnv(t)
	const cam = "site/a/cam1"
	target := dvr(cam, 0, ".jpg")
	resp := e.do("GET", target)
	lm := resp.Header.Get("Last-Modified")
	if lm != time.Unix(T0, 0).UTC().Format(http.TimeFormat) {
		t.Fatalf("Last-Modified %q", lm)
	}
	if resp := e.do("GET", target, "If-Modified-Since", lm); resp.StatusCode != 304 {
		t.Fatalf("If-Modified-Since: %d", resp.StatusCode)
	}
	if resp := e.do("GET", "/"+cam+"/preview.jpg", "If-Modified-Since", lm); resp.StatusCode != 200 {
		t.Fatalf("If-Modified-Since older than the newest preview: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Fatalf("CORS origin %q", got)
	}
	if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatal("ETag not exposed to scripts")
	}
	pre := e.do("OPTIONS", "/"+cam+"/preview.jpg", "Origin", "https://ui.example", "Access-Control-Request-Method", "GET")
	if pre.StatusCode != 204 || !strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "GET") ||
		pre.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	for _, p := range []string{"/api/streams", "/api/x/preview.jpg"} {
		for _, m := range []string{"GET", "OPTIONS"} {
			resp := e.do(m, p)
			if resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s %s: %d, CORS %q: /api/ belongs to the admin API", m, p, resp.StatusCode,
					resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
	}
}

func TestOpenAPI(t *testing.T) {
	e := newEnv(t)
	resp := e.do("GET", "/api/openapi.json")
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d %v", resp.StatusCode, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	// Every route form, and only those.
	forms := map[kind]string{
		kindPreviewJPEG: "/{name}/preview.jpg", kindPreviewMP4: "/{name}/preview.mp4",
		kindPreviewMJPEG: "/{name}/preview.mjpeg", kindStatus: "/{name}/recording_status.json",
		kindDateJPEG:        "/{name}/{YYYY}/{MM}/{DD}/{HH}/{MI}/{SS}.jpg",
		kindDateMP4:         "/{name}/{YYYY}/{MM}/{DD}/{HH}/{MI}/{SS}-preview.mp4",
		kindUnixPreviewJPEG: "/{name}/{unix}-preview.jpg", kindUnixJPEG: "/{name}/{unix}.jpg",
		kindUnixPreviewMP4: "/{name}/{unix}-preview.mp4",
	}
	if len(forms) != len(kindNames) {
		t.Fatalf("a route form is missing from this test")
	}
	want := []string{"/", "/healthz", "/readyz", "/metrics", "/api/openapi.json", "/api/streams", "/api/streams/{name}"}
	for _, p := range forms {
		want = append(want, p)
	}
	var got []string
	for p := range doc.Paths {
		got = append(got, p)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("paths\n got %v\nwant %v", got, want)
	}
}

func TestAccessLog(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	e := newEnvWith(t, func(d *Deps) { d.AccessLog = slog.New(slog.NewJSONHandler(lockedWriter{&buf, &mu}, nil)) })
	e.do("GET", "/site/a/cam1/preview.jpg")
	e.do("GET", "/nope/preview.jpg")
	mu.Lock()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	mu.Unlock()
	if len(lines) != 2 {
		t.Fatalf("%d access lines: %q", len(lines), lines)
	}
	var l struct {
		Method, Route, Remote, Component string
		Status                           int
		Bytes                            int64
		Duration                         float64
	}
	if err := json.Unmarshal([]byte(lines[0]), &l); err != nil {
		t.Fatal(err)
	}
	if l.Method != "GET" || l.Route != "preview_jpg" || l.Status != 200 || l.Bytes != int64(len(jpegBytes("site/a/cam1", (T0+30)*1000))) ||
		l.Remote == "" || l.Component != "access" {
		t.Fatalf("access line %s", lines[0])
	}
	if !strings.Contains(lines[1], `"status":404`) {
		t.Fatalf("404 line %s", lines[1])
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// fakeRenderer stands in for the render service in these unit tests (the
// NATS path is tested in the gateway package).
type fakeRenderer struct {
	e     *env
	calls atomic.Int32
	gate  chan struct{} // when set, Render waits on it
}

func (f *fakeRenderer) Render(ctx context.Context, req *stillsv1.RenderRequest) (*stillsv1.StoredObject, error) {
	f.calls.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	tm := layout.FromMillis(req.GetTimeMs())
	switch tm.Unix() - T0 {
	case 10:
		return nil, render.ErrNotFound
	case 20:
		return nil, render.ErrUnavailable
	case 30:
		return &stillsv1.StoredObject{Key: "other/stream.jpg"}, nil
	case 40:
		return nil, errors.New("boom")
	}
	if req.GetSettings().GetQuality() == 0 || req.GetMp4Key() != layout.MP4(req.GetStream(), tm) {
		return nil, errors.New("bad request")
	}
	key := layout.JPEG(req.GetStream(), tm)
	if err := f.e.store.Put(ctx, key, []byte("rendered "+key), "image/jpeg"); err != nil {
		return nil, err
	}
	return &stillsv1.StoredObject{Key: key, Bytes: int64(len("rendered " + key))}, nil
}

func TestOnDemand(t *testing.T) {
	fr := &fakeRenderer{}
	e := newEnvWith(t, func(d *Deps) { d.Render = fr })
	fr.e = e
	for _, d := range []int64{10, 20, 30, 40} {
		e.add("od", (T0+d)*1000, false, true, true)
	}
	want := "rendered " + layout.JPEG("od", time.Unix(T0, 0))
	for _, tc := range []struct {
		target string
		status int
		code   string
	}{
		{dvr("od", 0, ".jpg"), 200, ""},
		{unixURL("od", 1, ".jpg"), 200, ""},
		{dvr("od", 10, ".jpg"), 404, "not_found"},
		{dvr("od", 20, ".jpg"), 503, "unavailable"},
		{dvr("od", 30, ".jpg"), 500, "internal"},
		{dvr("od", 40, ".jpg"), 500, "internal"},
		{"/od/preview.jpg", 500, "internal"},     // the newest (T0+40) fails
		{dvr("site/a/cam1", 0, ".jpg"), 200, ""}, // stored: not rendered
	} {
		resp := e.do("GET", tc.target)
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: %d, want %d: %s", tc.target, resp.StatusCode, tc.status, body(t, resp))
		}
		if tc.code != "" {
			checkErrorBody(t, resp, tc.status, tc.code)
		} else if strings.HasPrefix(tc.target, "/od/") && body(t, resp) != want {
			t.Fatalf("%s: not the rendered JPEG", tc.target)
		}
	}
	// The first success is remembered; failures are retried.
	before := fr.calls.Load()
	e.do("GET", dvr("od", 0, ".jpg"))
	e.do("GET", dvr("od", 10, ".jpg"))
	if got := fr.calls.Load() - before; got != 1 {
		t.Fatalf("renders after the first: %d, want 1 (the failed one)", got)
	}
}

func TestOnDemandCoalesces(t *testing.T) {
	fr := &fakeRenderer{gate: make(chan struct{})}
	e := newEnvWith(t, func(d *Deps) { d.Render = fr })
	fr.e = e
	e.add("od", (T0+50)*1000, false, true, true)
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Go(func() { codes <- e.do("GET", dvr("od", 50, ".jpg")).StatusCode })
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if fr.calls.Load() == 0 {
			return errors.New("render not started")
		}
		return nil
	})
	close(fr.gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("status %d", c)
		}
	}
	if n := fr.calls.Load(); n != 1 {
		t.Fatalf("20 concurrent requests made %d renders, want 1", n)
	}
}
