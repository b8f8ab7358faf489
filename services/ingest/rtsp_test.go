package ingest_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/testutil"
	"github.com/stills-video/stills/services/ingest"
)

// clip makes a 4 s 640x360 25 fps H.264 clip with an IDR every second.
func clip(t *testing.T, name string, extra ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	args := []string{"-f", "lavfi", "-i", "testsrc=size=640x360:rate=25", "-t", "4",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-keyint_min", "25",
		"-sc_threshold", "0", "-pix_fmt", "yuv420p"}
	testutil.Ffmpeg(t, append(append(args, extra...), path)...)
	return path
}

// An ffmpeg "camera" pushes to an in-process RTSP server; ingest pulls it
// and publishes one event per second with a decodable keyframe.
func TestRTSPPull(t *testing.T) {
	tests := []struct {
		name string
		file string
		args []string
	}{
		// MP4 keeps the parameter sets out of band: they reach ingest
		// only through the SDP.
		{"no B-frames, SDP parameter sets", "plain.mp4", []string{"-bf", "0"}},
		// (Not MPEG-TS: ffmpeg -stream_loop drops the first IDR of every
		// loop of a TS with B-frames.)
		{"B-frames, in-band parameter sets", "bframes.mkv", []string{"-bf", "2", "-bsf:v", "dump_extra=freq=keyframe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testutil.StartRTSPServer(t)
			testutil.PushFFmpeg(t, clip(t, tt.file, tt.args...), srv.URL("cam"))
			srv.WaitPublisher(t, "cam", 10*time.Second)

			h := startIngest(t, ingest.Config{}, stream("rtsp/cam", "rtsp://user:hunter2@"+srv.Addr()+"/cam", time.Second))
			evs := h.waitEvents(t, "rtsp/cam", 4, 15*time.Second)
			// The keyframe times come from RTP timestamps: exact seconds
			// apart, up to the millisecond rounding.
			checkEvents(t, evs, 640, 360, time.Second, 2*time.Millisecond)
			st := h.waitStatus(t, "rtsp/cam", ingest.StatusOnline, time.Second)
			if st.URL != "rtsp://user:xxxxx@"+srv.Addr()+"/cam" {
				t.Errorf("status URL %q does not mask the password", st.URL)
			}
		})
	}
}

// A path nobody publishes is an error that is retried; when the camera
// comes, events flow; when it goes, the stream is in error; when it comes
// back, events resume.
func TestRTSPReconnect(t *testing.T) {
	t.Parallel()
	srv := testutil.StartRTSPServer(t)
	file := clip(t, "camera.mp4", "-bf", "0")
	h := startIngest(t, ingest.Config{RetryMin: 100 * time.Millisecond, RetryMax: 500 * time.Millisecond, ReadTimeout: 2 * time.Second},
		stream("cam", srv.URL("cam"), time.Second))

	// Nobody publishes yet: the server answers 404, the camera is offline
	// with the reason in the error.
	testutil.Eventually(t, 5*time.Second, func() error {
		if st := h.status("cam"); st.Status != ingest.StatusOffline || st.Errors == 0 || st.LastError == "" {
			return testutil.Errorf("refused session: status %+v", st)
		}
		return nil
	})

	push := testutil.PushFFmpeg(t, file, srv.URL("cam"))
	srv.WaitPublisher(t, "cam", 10*time.Second)
	first := h.waitEvents(t, "cam", 2, 10*time.Second)
	h.waitStatus(t, "cam", ingest.StatusOnline, time.Second)

	// The camera process dies: offline, then back online by itself.
	push.Stop()
	h.waitStatus(t, "cam", ingest.StatusOffline, 5*time.Second)
	n := len(h.events(t, "cam"))

	testutil.PushFFmpeg(t, file, srv.URL("cam"))
	srv.WaitPublisher(t, "cam", 10*time.Second)
	evs := h.waitEvents(t, "cam", n+2, 10*time.Second)
	h.waitStatus(t, "cam", ingest.StatusOnline, time.Second)
	checkEvents(t, evs[n:], 640, 360, time.Second, 2*time.Millisecond)
	for i := 1; i < len(evs); i++ {
		if evs[i].TimeMs <= evs[i-1].TimeMs || evs[i].Sequence <= evs[i-1].Sequence {
			t.Errorf("event %d (%d, seq %d) not after %d (%d, seq %d)", i, evs[i].TimeMs, evs[i].Sequence, i-1, evs[i-1].TimeMs, evs[i-1].Sequence)
		}
	}
	if evs[n].TimeMs <= first[len(first)-1].TimeMs {
		t.Error("events after the reconnect are not later")
	}
	if v := metricValue(t, h.reg, "stills_ingest_reconnects_total", "stream", "cam"); v < 2 {
		t.Errorf("reconnects = %v, want >= 2", v)
	}
}

// rtsp_transport: udp pulls RTP over UDP from a server that offers it.
func TestRTSPPullUDP(t *testing.T) {
	srv := testutil.StartRTSPServerUDP(t)
	testutil.PushFFmpeg(t, clip(t, "udp.mp4", "-bf", "0"), srv.URL("cam"))
	srv.WaitPublisher(t, "cam", 10*time.Second)

	s := stream("rtsp/udp", srv.URL("cam"), time.Second)
	s.RTSPTransport = "udp"
	h := startIngest(t, ingest.Config{}, s)
	evs := h.waitEvents(t, "rtsp/udp", 3, 15*time.Second)
	checkEvents(t, evs, 640, 360, time.Second, 2*time.Millisecond)
	if tr := srv.ReaderTransports(); len(tr) == 0 || tr[len(tr)-1] != "UDP" {
		t.Fatalf("reader transports %v, want UDP", tr)
	}
}
