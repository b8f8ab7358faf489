package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// mp4Only publishes a ThumbnailStored with only the MP4, as an ondemand
// stream's thumbnailer does.
func (w *world) mp4Only(name string, ms int64) {
	w.t.Helper()
	ctx := testutil.Context(w.t)
	key := layout.MP4(name, layout.FromMillis(ms))
	if err := w.store.Put(ctx, key, []byte("mp4"), ""); err != nil {
		w.t.Fatal(err)
	}
	b, _ := proto.Marshal(&stillsv1.ThumbnailStored{Stream: name, TimeMs: ms, Mp4: &stillsv1.StoredObject{Key: key, Bytes: 3}})
	if _, err := w.js.Publish(ctx, bus.StoredSubject(name), b); err != nil {
		w.t.Fatal(err)
	}
}

// On demand through a real NATS request/reply: the responder here plays
// the thumbnailer's render service.
func TestService_OnDemandRender(t *testing.T) {
	w := newWorld(t)
	od := config.Stream{Name: "site/od", Thumbnails: config.Thumbnails{Enabled: config.ModeOnDemand, Sizes: []config.Size{{Width: 320, Height: 180}}}}
	w.mp4Only("site/od", base)
	w.mp4Only("site/od", base+3000)
	s, _ := w.start2(od)
	waitApplied(t, s, 2)
	dvr := func(ms int64) string { return "/site/od/" + layout.DatePath(layout.FromMillis(ms)) + ".jpg" }

	if code, _, _ := get(t, s, dvr(base)); code != 503 {
		t.Fatalf("no render service: %d, want 503", code)
	}
	nc := w.js.Conn()
	sub, err := nc.Subscribe(bus.SubjectRender, func(m *nats.Msg) {
		var req stillsv1.RenderRequest
		reply := &stillsv1.RenderReply{}
		switch {
		case proto.Unmarshal(m.Data, &req) != nil:
			reply.Error = "bad request"
		case req.GetTimeMs() == base+3000:
			reply.Error = "not_found"
		case req.GetStream() != "site/od" || req.GetMp4Key() != layout.MP4("site/od", layout.FromMillis(req.GetTimeMs())) ||
			len(req.GetSettings().GetSizes()) != 1 || req.GetSettings().GetMode() != stillsv1.ThumbnailMode_THUMBNAIL_MODE_ONDEMAND:
			reply.Error = fmt.Sprintf("unexpected request %v", &req)
		default:
			key := layout.JPEG(req.GetStream(), layout.FromMillis(req.GetTimeMs()))
			if err := w.store.Put(context.Background(), key, []byte("rendered"), "image/jpeg"); err != nil {
				reply.Error = err.Error()
			}
			reply.Jpeg = &stillsv1.StoredObject{Key: key, Bytes: 8, Width: 320, Height: 180}
		}
		b, _ := proto.Marshal(reply)
		m.Respond(b)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if code, body, hdr := get(t, s, dvr(base)); code != 200 || body != "rendered" || hdr.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("rendered: %d %q", code, body)
	}
	if code, body, _ := get(t, s, fmt.Sprintf("/site/od/%d.jpg", base/1000)); code != 200 || body != "rendered" {
		t.Fatalf("unix jpg rendered: %d %q", code, body)
	}
	if code, _, _ := get(t, s, dvr(base+3000)); code != 404 {
		t.Fatalf("render not_found: %d, want 404", code)
	}
}

// start2 runs a gateway with the given streams.
func (w *world) start2(streams ...config.Stream) (*Service, func()) {
	return w.startWith(Config{Streams: streams})
}

// A new thumbnail reaches an open preview.mjpeg through the follower.
func TestService_MJPEGLive(t *testing.T) {
	w := newWorld(t)
	w.thumb("site/cam1", base)
	s, _ := w.start()
	waitApplied(t, s, 1)
	resp, err := http.Get("http://" + s.Addr() + "/site/cam1/preview.mjpeg")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	mr := multipart.NewReader(resp.Body, params["boundary"])
	part := func() string {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		return string(b)
	}
	if got := part(); got != fmt.Sprint("jpeg@", base) {
		t.Fatalf("first part %q", got)
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if s.hub.Viewers("site/cam1") != 1 {
			return errors.New("not subscribed yet")
		}
		return nil
	})
	w.thumb("site/cam1", base+3000)
	if got := part(); got != fmt.Sprint("jpeg@", base+3000) {
		t.Fatalf("live part %q", got)
	}
}

// Retention: entries and objects older than dvr.retention go; the janitor
// clock is injected.
func TestService_Retention(t *testing.T) {
	w := newWorld(t)
	for i := range 40 { // 40 thumbnails, 3 s apart: 2 minutes
		w.thumb("short", base+int64(i)*3000)
		w.thumb("long", base+int64(i)*3000)
	}
	now := time.UnixMilli(base + 120_000) // the last minute stays for "short"
	s, _ := w.startWith(Config{
		Streams: []config.Stream{
			{Name: "short", DVR: config.DVR{Retention: config.Duration(time.Minute)}},
			{Name: "long", DVR: config.DVR{Retention: config.Duration(time.Hour)}},
		},
		Janitor: JanitorConfig{Interval: 20 * time.Millisecond, Now: func() time.Time { return now }},
	})
	waitApplied(t, s, 80)
	testutil.Eventually(t, 10*time.Second, func() error {
		first, _, _, _ := s.db.Bounds("short")
		if first < base+60_000 {
			return fmt.Errorf("short still starts at +%dms", first-base)
		}
		return nil
	})
	ctx := testutil.Context(t)
	if _, err := w.store.Get(ctx, layout.JPEG("short", layout.FromMillis(base))); err == nil {
		t.Fatal("expired object kept")
	}
	if _, err := w.store.Get(ctx, layout.JPEG("short", layout.FromMillis(base+60_000))); err != nil {
		t.Fatalf("object within retention: %v", err)
	}
	if first, _, _, _ := s.db.Bounds("long"); first != base {
		t.Fatal("long pruned within its retention")
	}
	if code, _, _ := get(t, s, "/short/"+layout.DatePath(layout.FromMillis(base))+".jpg"); code != 302 {
		t.Fatalf("expired second: %d, want a redirect to the oldest kept", code)
	}
}

func TestLeaderLock(t *testing.T) {
	w := newWorld(t)
	ctx := testutil.Context(t)
	a := newLeaderLock(w.js, time.Second, slog.New(slog.DiscardHandler))
	b := newLeaderLock(w.js, time.Second, slog.New(slog.DiscardHandler))
	if !a.held(ctx) || b.held(ctx) || !a.held(ctx) {
		t.Fatal("first locker must hold the lock, the second not")
	}
	// a stops refreshing: the entry expires and b takes over.
	testutil.Eventually(t, 10*time.Second, func() error {
		if !b.held(ctx) {
			return errors.New("b not leader yet")
		}
		return nil
	})
	if a.held(ctx) {
		t.Fatal("two leaders")
	}
}

func TestService_OpsMetricsAndAuth(t *testing.T) {
	w := newWorld(t)
	w.thumb("site/cam1", base)
	s, _ := w.startWith(Config{Streams: []config.Stream{{Name: "site/cam1"}}, Auth: config.Auth{TokenKey: "0123456789abcdef-key"}})
	waitApplied(t, s, 1)
	_, body, _ := get(t, s, "/metrics")
	for _, want := range []string{"stills_gateway_index_lag 0", "stills_gateway_index_bytes ", "stills_gateway_mjpeg_viewers 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, _, _ := get(t, s, "/site/cam1/preview.jpg"); code != 403 {
		t.Fatalf("auth.token_key set, no token: %d", code)
	}
	if _, err := New(Config{DataDir: t.TempDir(), Auth: config.Auth{BackendURL: "ftp://x"}}, w.js, w.store); err == nil {
		t.Fatal("bad backend URL accepted")
	}
}
