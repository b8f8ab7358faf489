package thumbnailer_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer"
	"github.com/stills-video/stills/services/thumbnailer/internal/testmedia"
)

// A camera snapshot URL per stream, from a good camera and from hostile
// or broken ones: the good one becomes the canonical JPEG, every other
// falls back to decoding the keyframe and is counted by reason.
func TestSnapshotURL(t *testing.T) {
	var buf bytes.Buffer
	testutil.Must(t, jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 48)), nil))
	camJPEG := buf.Bytes()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(camJPEG) }))
	t.Cleanup(other.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("/snap.jpg", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(camJPEG) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		for range 64 {
			if _, err := w.Write(make([]byte, 16<<10)); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>login</html>")) })
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/snap.jpg", http.StatusFound)
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	cam := httptest.NewServer(mux)
	t.Cleanup(cam.Close)

	e := startWith(t, thumbnailer.Config{SnapshotTimeout: 300 * time.Millisecond, SnapshotMaxBytes: 64 << 10}, nil, quickConsumer)
	au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	tests := []struct {
		stream, path, reason string // reason "" = the snapshot is used
	}{
		{"good", "/snap.jpg", ""},
		{"slow", "/slow", "timeout"},
		{"huge", "/huge", "too_large"},
		{"html", "/html", "not_jpeg"},
		{"away", "/away", "redirect"},
		{"error", "/500", "status"},
	}
	const ms = int64(1_700_000_000_000)
	for _, tc := range tests {
		st := settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED, [2]uint32{320, 0}, [2]uint32{160, 0})
		st.SnapshotUrl = cam.URL + tc.path
		e.publish(tc.stream, ms, au, st, tc.stream)
	}
	e.waitStats("all stored", func(s thumbnailer.Stats) bool { return s.Stored == int64(len(tests)) })
	recs, _ := records(e, bus.StreamThumbs, func() *stillsv1.ThumbnailStored { return &stillsv1.ThumbnailStored{} })
	byStream := map[string]*stillsv1.ThumbnailStored{}
	for _, r := range recs {
		byStream[r.GetStream()] = r
	}
	for _, tc := range tests {
		t.Run(tc.stream, func(t *testing.T) {
			r := byStream[tc.stream]
			if r == nil || len(r.GetJpegs()) != 2 || r.GetJpegs()[1].GetWidth() != 160 || r.GetMp4().GetKey() == "" {
				t.Fatalf("record %v", r)
			}
			canon, err := e.local.Get(e.ctx, r.GetJpegs()[0].GetKey())
			testutil.Must(t, err)
			if tc.reason == "" {
				if r.GetSource() != "snapshot" || !bytes.Equal(canon, camJPEG) || r.GetJpegs()[0].GetWidth() != 64 {
					t.Fatalf("source %q, canonical %v, want the camera's JPEG", r.GetSource(), r.GetJpegs()[0])
				}
				return
			}
			if r.GetSource() != "decode" || bytes.Equal(canon, camJPEG) || r.GetJpegs()[0].GetWidth() != 320 {
				t.Fatalf("source %q, canonical %v, want the decoded keyframe", r.GetSource(), r.GetJpegs()[0])
			}
			if n := promtest.ToFloat64(counter(t, e.reg, "stills_thumbnailer_snapshot_failures_total", tc.reason)); n != 1 {
				t.Fatalf("snapshot_failures_total{%s} = %v", tc.reason, n)
			}
		})
	}
}
