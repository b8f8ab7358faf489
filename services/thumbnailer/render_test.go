package thumbnailer_test

import (
	"bytes"
	"image/jpeg"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer"
	"github.com/stills-video/stills/services/thumbnailer/internal/testmedia"
)

// request sends a RenderRequest the way the gateway does: plain NATS
// request/reply on bus.SubjectRender.
func (e *env) request(t *testing.T, data []byte) *stillsv1.RenderReply {
	t.Helper()
	m, err := e.nats.Conn.RequestWithContext(e.ctx, bus.SubjectRender, data)
	if err != nil {
		t.Error(err)
		return nil
	}
	reply := &stillsv1.RenderReply{}
	testutil.Must(t, proto.Unmarshal(m.Data, reply))
	return reply
}

func TestRender(t *testing.T) {
	e := start(t, nil, quickConsumer)
	ondemand := settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ONDEMAND)
	const t264, t265 = int64(1_700_000_000_000), int64(1_700_000_003_000)
	e.publishCodec("site/cam1", t264, stillsv1.Codec_CODEC_H264, testmedia.Keyframe(t, testmedia.Spec{Width: 1440, Height: 1080, SAR: "4/3"}), ondemand, "a")
	e.publishCodec("site/cam1", t265, stillsv1.Codec_CODEC_H265, testmedia.Keyframe(t, testmedia.Spec{Codec: "h265", Width: 320, Height: 240}), ondemand, "b")
	e.waitStats("2 stored", func(s thumbnailer.Stats) bool { return s.Stored == 2 })

	want := settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ONDEMAND, [2]uint32{320, 0}, [2]uint32{160, 0})
	tests := []struct {
		name   string
		ms     int64
		w, h   int
		codec  stillsv1.Codec
		mp4Key string
	}{
		{"h264 anamorphic", t264, 320, 180, stillsv1.Codec_CODEC_H264, layout.MP4("site/cam1", layout.FromMillis(t264))},
		{"h265 key derived", t265, 320, 240, stillsv1.Codec_CODEC_H265, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := mustMarshal(t, &stillsv1.RenderRequest{Stream: "site/cam1", TimeMs: tc.ms, Mp4Key: tc.mp4Key, Settings: want})
			// Concurrent identical requests all get the same answer.
			replies := make([]*stillsv1.RenderReply, 6)
			var wg sync.WaitGroup
			for i := range replies {
				wg.Go(func() { replies[i] = e.request(t, req) })
			}
			wg.Wait()
			key := layout.JPEG("site/cam1", layout.FromMillis(tc.ms))
			for _, r := range replies {
				if r.GetError() != "" || r.GetJpeg().GetKey() != key || int(r.GetJpeg().GetWidth()) != tc.w || int(r.GetJpeg().GetHeight()) != tc.h {
					t.Fatalf("reply %v, want %s %dx%d", r, key, tc.w, tc.h)
				}
			}
			data, err := e.local.Get(e.ctx, key)
			testutil.Must(t, err)
			img, err := jpeg.Decode(bytes.NewReader(data))
			testutil.Must(t, err)
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("stored jpeg %v", b)
			}
			// The index learns it: a ThumbnailStored with source render.
			testutil.Eventually(t, waitFor, func() error {
				recs, _ := records(e, bus.StreamThumbs, func() *stillsv1.ThumbnailStored { return &stillsv1.ThumbnailStored{} })
				for _, r := range recs {
					if r.GetSource() == "render" && r.GetTimeMs() == tc.ms {
						if len(r.GetJpegs()) != 2 || r.GetJpegs()[1].GetWidth() != 160 || r.GetMp4().GetKey() != layout.MP4("site/cam1", layout.FromMillis(tc.ms)) || r.GetCodec() != tc.codec {
							return testutil.Errorf("render record %v", r)
						}
						return nil
					}
				}
				return testutil.Errorf("no render record for %d", tc.ms)
			})
		})
	}
}

func TestRenderErrors(t *testing.T) {
	e := start(t, nil, quickConsumer)
	const ms = int64(1_700_000_000_000)
	st := settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ONDEMAND)
	// A damaged MP4 at the canonical key of another second.
	const bad = ms + 5000
	testutil.Must(t, e.local.Put(e.ctx, layout.MP4("cam1", layout.FromMillis(bad)), []byte("not an mp4"), "video/mp4"))
	req := func(r *stillsv1.RenderRequest) []byte { return mustMarshal(t, r) }
	tests := []struct {
		name string
		data []byte
		code string
	}{
		{"not protobuf", []byte{0xff, 0xff, 0xff}, "invalid_request"},
		{"bad stream name", req(&stillsv1.RenderRequest{Stream: "../etc", TimeMs: ms, Settings: st}), "invalid_request"},
		{"no time", req(&stillsv1.RenderRequest{Stream: "cam1", Settings: st}), "invalid_request"},
		{"foreign key", req(&stillsv1.RenderRequest{Stream: "cam1", TimeMs: ms, Mp4Key: "cam2/2023/11/14/22/13/20-preview.mp4", Settings: st}), "invalid_request"},
		{"too large", req(&stillsv1.RenderRequest{Stream: "cam1", TimeMs: ms, Settings: settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ONDEMAND, [2]uint32{9000, 0})}), "invalid_request"},
		{"disabled", req(&stillsv1.RenderRequest{Stream: "cam1", TimeMs: ms, Settings: settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_DISABLED)}), "disabled"},
		{"no mp4", req(&stillsv1.RenderRequest{Stream: "cam1", TimeMs: ms, Settings: st}), "not_found"},
		{"damaged mp4", req(&stillsv1.RenderRequest{Stream: "cam1", TimeMs: bad, Settings: st}), "undecodable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.request(t, tc.data)
			if code, _, _ := strings.Cut(r.GetError(), ":"); code != tc.code || r.GetJpeg() != nil {
				t.Fatalf("reply %v, want error %s", r, tc.code)
			}
		})
	}
}

// A request not done within RenderTimeout answers "timeout".
func TestRenderTimeout(t *testing.T) {
	e := startWith(t, thumbnailer.Config{RenderTimeout: time.Nanosecond}, nil, quickConsumer)
	au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	e.publish("cam1", 1000, au, settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ONDEMAND), "a")
	e.waitStats("stored", func(s thumbnailer.Stats) bool { return s.Stored == 1 })
	r := e.request(t, mustMarshal(t, &stillsv1.RenderRequest{Stream: "cam1", TimeMs: 1000, Settings: settings(stillsv1.ThumbnailMode_THUMBNAIL_MODE_ONDEMAND)}))
	if !strings.HasPrefix(r.GetError(), "timeout:") {
		t.Fatalf("reply %v, want a timeout", r)
	}
}
