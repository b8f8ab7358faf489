package stills_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/testutil"
	"github.com/stills-video/stills/services/stills"
)

// startOneBox runs one-box Stills in this process on a fresh data dir and
// returns the gateway's base URL. It stops when the test ends and fails
// the test if Run returned an error other than cancellation.
func startOneBox(t *testing.T, streams ...config.Stream) string {
	t.Helper()
	cfg := config.Default()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Storage.Dir = cfg.DataDir + "/blobs"
	workers := 2
	cfg.Thumbnailer.Workers = workers
	for i := range streams {
		streams[i].FillDefaults()
		testutil.Must(t, streams[i].Validate())
	}
	cfg.Streams = streams
	testutil.Must(t, cfg.Validate())

	log := testLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- stills.Run(ctx, stills.Options{Config: cfg, Log: log, Ready: func(u string) { ready <- u }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("one-box: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("one-box did not stop within 15s of cancel")
		}
	})
	select {
	case u := <-ready:
		return u
	case err := <-done:
		t.Fatalf("one-box stopped before ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("one-box not ready after 30s")
	}
	return ""
}

func TestOneBox_FakeStreamEndToEnd(t *testing.T) {
	const name = "site-a/lobby.cam"
	base := startOneBox(t, config.Stream{Name: name, URL: "fake://lobby", SegmentDuration: config.Duration(3 * time.Second)})

	// Within seconds, preview.jpg is a JPEG of the source size.
	var preview response
	testutil.Eventually(t, 20*time.Second, func() (err error) {
		preview, err = getOK(base + "/" + name + "/preview.jpg")
		return err
	})
	if ct := preview.header.Get("Content-Type"); ct != "image/jpeg" {
		t.Fatalf("preview.jpg Content-Type %q", ct)
	}
	if sz := decodeJPEG(t, preview.body).Bounds().Size(); sz.X != 640 || sz.Y != 360 {
		t.Fatalf("preview.jpg is %v, want the source size 640x360", sz)
	}

	// After three segments, brief_thumbnails increase one segment apart.
	ts := waitThumbnails(t, base, name, 3, 30*time.Second)
	for i := 1; i < len(ts); i++ {
		if d := ts[i] - ts[i-1]; d < 2 || d > 4 {
			t.Fatalf("brief_thumbnails %v: step %d s, want about 3 s", ts, d)
		}
	}

	// Each canonical URL serves, with immutable caching; the MP4 is one frame.
	var jpegs [][]byte
	for _, sec := range ts[:3] {
		r := get(t, fmt.Sprintf("%s/%s/%s.jpg", base, name, datePath(sec)))
		if r.status != http.StatusOK || !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
			t.Fatalf("canonical JPEG at %d: %d %v", sec, r.status, r.header)
		}
		decodeJPEG(t, r.body)
		jpegs = append(jpegs, r.body)
		m := get(t, fmt.Sprintf("%s/%s/%s-preview.mp4", base, name, datePath(sec)))
		if m.status != http.StatusOK || m.header.Get("Content-Type") != "video/mp4" {
			t.Fatalf("canonical MP4 at %d: %d %v", sec, m.status, m.header)
		}
		if n := ffprobeFrames(t, m.body); n != 1 {
			t.Fatalf("MP4 at %d decodes to %d frames, want 1", sec, n)
		}
	}
	// The fake clip shows a running counter: successive thumbnails differ.
	if string(jpegs[0]) == string(jpegs[1]) || string(jpegs[1]) == string(jpegs[2]) {
		t.Fatal("successive segment thumbnails are identical")
	}

	// An approximate time 302s to the nearer keyframe, query kept. Keyframe
	// times carry milliseconds: T+1 s is at most 1 s from keyframe T and at
	// least 2 s from the next one, which is about 3 s later.
	for _, tc := range []struct{ at, want int64 }{{ts[0] + 1, ts[0]}, {ts[1] + 1, ts[1]}, {ts[2] + 1, ts[2]}, {ts[0] - 5, ts[0]}} {
		r := get(t, fmt.Sprintf("%s/%s/%d-preview.jpg?token=abc", base, name, tc.at))
		want := fmt.Sprintf("/%s/%s.jpg?token=abc", name, datePath(tc.want))
		if r.status != http.StatusFound || r.header.Get("Location") != want {
			t.Fatalf("%d-preview.jpg: %d Location %q, want 302 %q", tc.at, r.status, r.header.Get("Location"), want)
		}
	}
	// {unix}.jpg answers the closest JPEG directly.
	if r := get(t, fmt.Sprintf("%s/%s/%d.jpg", base, name, ts[1])); r.status != http.StatusOK || string(r.body) != string(jpegs[1]) {
		t.Fatalf("%d.jpg: %d", ts[1], r.status)
	}
	// preview.mp4 is the latest one-frame MP4.
	m := get(t, base+"/"+name+"/preview.mp4")
	if m.status != http.StatusOK || ffprobeFrames(t, m.body) != 1 {
		t.Fatalf("preview.mp4: %d", m.status)
	}
	// Unknown streams and hostile names are refused.
	for path, want := range map[string]int{
		"/nope/preview.jpg":           http.StatusNotFound,
		"/site-a/../etc/preview.jpg":  http.StatusBadRequest,
		"/site-a/%2e%2e/preview.jpg":  http.StatusBadRequest,
		"/" + name + "/1/2/3.jpg":     http.StatusNotFound,
		"/" + name + "/preview.bogus": http.StatusNotFound,
	} {
		if r := get(t, base+path); r.status != want {
			t.Errorf("GET %s: %d, want %d (%s)", path, r.status, want, r.body)
		}
	}
}
