package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/gateway/internal/index"
	"github.com/stills-video/stills/services/gateway/internal/latest"
)

const base = int64(1_700_000_000_000)

type world struct {
	t       *testing.T
	js      jetstream.JetStream
	store   *blob.Local
	dataDir string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	n := testutil.StartNATS(t)
	if err := bus.EnsureStreams(testutil.Context(t), n.JS, bus.Options{}); err != nil {
		t.Fatal(err)
	}
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, js: n.JS, store: store, dataDir: t.TempDir()}
}

// thumb stores the objects of a thumbnail and publishes ThumbnailStored,
// as a thumbnailer does.
func (w *world) thumb(name string, ms int64) {
	w.t.Helper()
	ctx := testutil.Context(w.t)
	tm := layout.FromMillis(ms)
	jk, mk := layout.JPEG(name, tm), layout.MP4(name, tm)
	for key, data := range map[string]string{jk: "jpeg@" + fmt.Sprint(ms), mk: "mp4@" + fmt.Sprint(ms)} {
		if err := w.store.Put(ctx, key, []byte(data), ""); err != nil {
			w.t.Fatal(err)
		}
	}
	b, err := proto.Marshal(&stillsv1.ThumbnailStored{
		Stream: name, TimeMs: ms, Source: "decode",
		Jpegs: []*stillsv1.StoredObject{{Key: jk, Bytes: int64(len("jpeg@")) + int64(len(fmt.Sprint(ms)))}},
		Mp4:   &stillsv1.StoredObject{Key: mk, Bytes: int64(len("mp4@")) + int64(len(fmt.Sprint(ms)))},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.js.Publish(ctx, bus.StoredSubject(name), b); err != nil {
		w.t.Fatal(err)
	}
}

// start runs a gateway until the returned stop is called.
func (w *world) start() (*Service, func()) {
	w.t.Helper()
	return w.startWith(Config{
		Streams: []config.Stream{{Name: "site/cam1"}, {Name: "dark", Thumbnails: config.Thumbnails{Enabled: config.ModeDisabled}}},
	})
}

// startWith runs a gateway with cfg (Listen and DataDir filled in; the
// janitor's clock one hour after base unless set).
func (w *world) startWith(cfg Config) (*Service, func()) {
	w.t.Helper()
	cfg.Listen, cfg.DataDir = "127.0.0.1:0", w.dataDir
	if cfg.Janitor.Now == nil {
		// The test thumbnails are from 2023: keep them within retention.
		cfg.Janitor.Now = func() time.Time { return time.UnixMilli(base + 3_600_000) }
	}
	s, err := New(cfg, w.js, w.store)
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Run(ctx); err != nil {
			w.t.Errorf("run: %v", err)
		}
	})
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	w.t.Cleanup(stop)
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if _, err := s.WaitListening(wctx); err != nil {
		w.t.Fatalf("not listening: %v", err)
	}
	return s, stop
}

func get(t *testing.T, s *Service, path string) (int, string, http.Header) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + s.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func waitApplied(t *testing.T, s *Service, seq uint64) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() error {
		if got := s.LastApplied(); got != seq || !s.Ready() {
			return fmt.Errorf("applied %d ready %v, want %d", got, s.Ready(), seq)
		}
		return nil
	})
}

func TestService_ServesAndResumesAfterRestart(t *testing.T) {
	w := newWorld(t)
	for i := range 10 {
		w.thumb("site/cam1", base+int64(i)*3000)
	}
	s, stop := w.start()
	waitApplied(t, s, 10)
	if code, _, _ := get(t, s, "/readyz"); code != 200 {
		t.Fatalf("readyz %d", code)
	}
	code, body, _ := get(t, s, "/site/cam1/preview.jpg")
	if code != 200 || body != fmt.Sprint("jpeg@", base+27000) {
		t.Fatalf("preview %d %q", code, body)
	}
	dvrPath := "/site/cam1/" + layout.DatePath(layout.FromMillis(base+1000)) + ".jpg?token=abc"
	code, _, hdr := get(t, s, dvrPath)
	wantLoc := "/site/cam1/" + layout.DatePath(layout.FromMillis(base)) + ".jpg?token=abc"
	if code != 302 || hdr.Get("Location") != wantLoc {
		t.Fatalf("dvr redirect %d %q", code, hdr.Get("Location"))
	}
	_, statusBefore, _ := get(t, s, "/site/cam1/recording_status.json?from=0&to=now&request=brief_thumbnails")

	// Live: a new thumbnail is applied and its bytes cached before any
	// request asks for them.
	w.thumb("site/cam1", base+30000)
	waitApplied(t, s, 11)
	key := layout.JPEG("site/cam1", layout.FromMillis(base+30000))
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, ok := s.cache.Peek("site/cam1", latest.JPEG, key); !ok {
			return errors.New("latest JPEG not cached")
		}
		return nil
	})
	stop()
	if s.Addr() == "" {
		t.Fatal("address lost")
	}

	// Restart on the same data dir: it resumes after sequence 11.
	w.thumb("site/cam1", base+33000)
	w.thumb("other/cam", base)
	s, _ = w.start()
	waitApplied(t, s, 13)
	if got := s.Received(); got != 2 {
		t.Fatalf("received %d messages after restart, want 2 (no replay from zero)", got)
	}
	code, _, _ = get(t, s, dvrPath)
	if code != 302 {
		t.Fatalf("after restart dvr %d", code)
	}
	_, statusAfter, _ := get(t, s, "/site/cam1/recording_status.json?from=0&to="+fmt.Sprint((base+27999)/1000)+"&request=brief_thumbnails")
	if statusAfter != statusBefore {
		t.Fatalf("status changed across restart:\n%s\n%s", statusBefore, statusAfter)
	}
	if code, body, _ := get(t, s, "/other/cam/preview.mp4"); code != 200 || body != fmt.Sprint("mp4@", base) {
		t.Fatalf("new stream after restart: %d %q", code, body)
	}
	if code, _, _ := get(t, s, "/dark/preview.jpg"); code != 403 {
		t.Fatalf("disabled stream: %d", code)
	}
}

func TestService_Metrics(t *testing.T) {
	w := newWorld(t)
	w.thumb("cam", base)
	s, _ := w.start()
	waitApplied(t, s, 1)
	_, body, _ := get(t, s, "/metrics")
	for _, want := range []string{"stills_gateway_index_applied_seq 1", "stills_gateway_index_caught_up 1", "stills_gateway_index_received_total 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestNew_Errors(t *testing.T) {
	w := newWorld(t)
	if _, err := New(Config{}, w.js, w.store); err == nil {
		t.Error("empty data dir accepted")
	}
	if _, err := New(Config{DataDir: t.TempDir(), Streams: []config.Stream{{Name: "../x"}}}, w.js, w.store); err == nil {
		t.Error("bad stream name accepted")
	}
	s, err := New(Config{DataDir: w.dataDir, Listen: "127.0.0.1:notaport"}, w.js, w.store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{DataDir: w.dataDir}, w.js, w.store); !errors.Is(err, index.ErrLocked) {
		t.Errorf("second gateway on one data dir: %v", err)
	}
	if err := s.Run(testutil.Context(t)); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("run on a bad address: %v", err)
	}
	// Run closed the index: the data dir is free again.
	s2, err := New(Config{DataDir: w.dataDir}, w.js, w.store)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s.Close()
}
