package source

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

func TestFakeClipParses(t *testing.T) {
	c, err := loadFakeClip()
	if err != nil {
		t.Fatal(err)
	}
	keys := 0
	for i, au := range c.aus {
		if au.keyframe {
			keys++
			if i%25 != 0 {
				t.Errorf("keyframe at access unit %d, want every 25th", i)
			}
		}
	}
	if len(c.aus) != 750 || keys != 30 || c.loop != 30*time.Second || c.aus[1].at != 40*time.Millisecond {
		t.Fatalf("%d access units, %d keyframes, loop %v, frame %v; want 750, 30, 30s, 40ms", len(c.aus), keys, c.loop, c.aus[1].at)
	}
}

// collector gathers access units from a running source.
type collector struct {
	mu  sync.Mutex
	aus []AccessUnit
}

func (c *collector) emit(au AccessUnit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.aus = append(c.aus, au)
}

func (c *collector) snapshot() []AccessUnit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]AccessUnit(nil), c.aus...)
}

func (c *collector) keyframes() []AccessUnit {
	var out []AccessUnit
	for _, au := range c.snapshot() {
		if au.IsKeyframe {
			out = append(out, au)
		}
	}
	return out
}

// run starts src until the test ends and returns the collector and Run's
// result channel.
func run(t *testing.T, src Source) (*collector, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	col := &collector{}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, col.emit) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return col, done
}

func TestFakeRealTime(t *testing.T) {
	src, err := Open("fake://cam1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	col, _ := run(t, src)
	testutil.Eventually(t, 5*time.Second, func() error {
		if n := len(col.keyframes()); n < 3 {
			return testutil.Errorf("%d keyframes", n)
		}
		return nil
	})
	elapsed := time.Since(began)
	keys := col.keyframes()
	// Three keyframes (at 0 s, 1 s, 2 s) cannot arrive before 2 s of wall time.
	if elapsed < 2*time.Second {
		t.Errorf("3 keyframes after %v: faster than real time", elapsed)
	}
	for i, k := range keys {
		if i > 0 {
			if d := k.Time.Sub(keys[i-1].Time); d != time.Second {
				t.Errorf("keyframe %d: %v after the previous, want 1s", i, d)
			}
		}
		if k.Time.Location() != time.UTC {
			t.Errorf("keyframe time %v not UTC", k.Time)
		}
		if d := k.Time.Sub(began); d < -time.Second || d > 4*time.Second {
			t.Errorf("keyframe time %v is %v from the start: not wall time", k.Time, d)
		}
		if !hasType(k.NALUs, h264.NALUTypeSPS) || !hasType(k.NALUs, h264.NALUTypePPS) || !hasType(k.NALUs, h264.NALUTypeIDR) {
			t.Errorf("keyframe %d lacks SPS/PPS/IDR", i)
		}
	}
	aus := col.snapshot()
	for i := 1; i < len(aus); i++ {
		if d := aus[i].PTS - aus[i-1].PTS; d != 40*time.Millisecond {
			t.Fatalf("access unit %d: PTS step %v, want 40ms", i, d)
		}
	}
}

func hasType(nalus [][]byte, typ h264.NALUType) bool {
	for _, n := range nalus {
		if h264.NALUType(n[0]&0x1f) == typ {
			return true
		}
	}
	return false
}

func TestFileLoopsMonotonic(t *testing.T) {
	// 0.4 s at 25 fps, an IDR every 5 frames: it loops in 0.4 s.
	path := filepath.Join(t.TempDir(), "short.h264")
	testutil.Ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-frames:v", "10",
		"-c:v", "libx264", "-bf", "0", "-g", "5", "-keyint_min", "5", "-sc_threshold", "0", "-f", "h264", path)
	src, err := Open("file://"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	col, _ := run(t, src)
	testutil.Eventually(t, 5*time.Second, func() error {
		if n := len(col.snapshot()); n < 25 {
			return testutil.Errorf("%d access units", n)
		}
		return nil
	})
	aus := col.snapshot()
	for i := 1; i < len(aus); i++ {
		if !aus[i].Time.After(aus[i-1].Time) || aus[i].PTS <= aus[i-1].PTS {
			t.Fatalf("access unit %d not after %d: %v/%v then %v/%v", i, i-1, aus[i-1].Time, aus[i-1].PTS, aus[i].Time, aus[i].PTS)
		}
		if aus[i].IsKeyframe != (i%5 == 0) {
			t.Errorf("access unit %d keyframe=%v", i, aus[i].IsKeyframe)
		}
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.h264")
	testutil.Must(t, os.WriteFile(garbage, []byte("not a video at all"), 0o644))
	garbageTS := filepath.Join(dir, "garbage.ts")
	testutil.Must(t, os.WriteFile(garbageTS, bytes.Repeat([]byte{0x47, 1, 2, 3}, 1000), 0o644))
	noIDR := filepath.Join(dir, "noidr.h264")
	testutil.Must(t, os.WriteFile(noIDR, []byte{0, 0, 0, 1, 0x41, 0x9a, 0, 0, 1, 0x41, 0x9b}, 0o644))
	tests := []struct {
		name string
		url  string
		want error
	}{
		{"missing", "file://" + filepath.Join(dir, "missing.h264"), os.ErrNotExist},
		{"mp4 not supported", "file://" + filepath.Join(dir, "clip.mp4"), ErrUnsupported},
		{"garbage mpeg-ts", "file://" + garbageTS, ErrNoVideo},
		{"not annex-b", "file://" + garbage, ErrNoVideo},
		{"no keyframe", "file://" + noIDR, ErrNoVideo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Open(tt.url, Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = src.Run(testutil.Context(t), func(AccessUnit) { t.Error("emitted") })
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	for _, u := range []string{"http://x/y", "srt://h:1", "%zz"} {
		if _, err := Open(u, Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
	if _, err := Open("http://x/y", Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("http: %v, want ErrUnsupported", err)
	}
	for _, u := range []string{"fake://a", "file:///x.h264", "rtsp://u:p@h:554/p", "rtsps://h/p"} {
		if _, err := Open(u, Options{}); err != nil {
			t.Errorf("Open(%q): %v", u, err)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"rtsp://admin:s3cret@10.0.0.1:554/live": "rtsp://admin:xxxxx@10.0.0.1:554/live",
		"rtsp://10.0.0.1/live":                  "rtsp://10.0.0.1/live",
		"%zz":                                   "(unparsable url)",
	}
	for in, want := range tests {
		if got := Redact(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitAnnexBLong(t *testing.T) {
	// Three 3 MiB NAL units (9 MiB, over mediacommon's 8 MiB at once), with
	// 4- and 3-byte start codes.
	var stream []byte
	var want [][]byte
	for i, sc := range [][]byte{{0, 0, 0, 1}, {0, 0, 1}, {0, 0, 0, 1}} {
		n := bytes.Repeat([]byte{0x41, byte(0x10 + i)}, 3<<19)
		want = append(want, n)
		stream = append(append(stream, sc...), n...)
	}
	got, err := splitAnnexB(stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d NAL units, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("NAL unit %d differs (len %d, want %d)", i, len(got[i]), len(want[i]))
		}
	}
	// One NAL unit longer than a chunk with no start code after it.
	if _, err := splitAnnexB(append([]byte{0, 0, 1}, bytes.Repeat([]byte{0x41}, 5<<20)...)); !errors.Is(err, ErrNoVideo) {
		t.Errorf("oversized NAL unit: %v, want ErrNoVideo", err)
	}
}

func TestGroupAccessUnits(t *testing.T) {
	sps, pps, sei, aud := []byte{0x67, 1}, []byte{0x68, 1}, []byte{0x06, 1}, []byte{0x09, 0xf0}
	idrA, idrB := []byte{0x65, 0x88}, []byte{0x65, 0x40} // first_mb 0, then another slice of the same picture
	p1, p2 := []byte{0x41, 0x9a}, []byte{0x41, 0x9b}
	got := groupAccessUnits(stillsv1.Codec_CODEC_H264, [][]byte{sps, pps, sei, idrA, idrB, p1, p2, aud, p1, sps, pps, idrA})
	want := [][][]byte{{sps, pps, sei, idrA, idrB}, {p1}, {p2}, {aud, p1}, {sps, pps, idrA}}
	if len(got) != len(want) {
		t.Fatalf("%d access units %x, want %d", len(got), got, len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) || !bytes.Equal(got[i][0], want[i][0]) {
			t.Errorf("access unit %d = %x, want %x", i, got[i], want[i])
		}
	}
}

func TestWallClock(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.Local)
	var w wallClock
	tests := []struct {
		name    string
		recv    time.Duration // receive time since now
		pts     int64         // 90 kHz
		want    time.Duration // wall time since now
		wantPTS time.Duration
	}{
		{"first anchors", 0, 900000, 0, 0},
		{"pts delta, not receive time", 300 * time.Millisecond, 900000 + 9000, 100 * time.Millisecond, 100 * time.Millisecond},
		{"jitter within the skew", 1500 * time.Millisecond, 900000 + 90000, time.Second, time.Second},
		{"drift re-anchors", 10 * time.Second, 900000 + 2*90000, 10 * time.Second, 2 * time.Second},
		{"after re-anchoring", 11 * time.Second, 900000 + 3*90000, 11 * time.Second, 3 * time.Second},
	}
	for _, tt := range tests {
		got, pts := w.at(now.Add(tt.recv), tt.pts, 90000, time.Time{})
		if !got.Equal(now.Add(tt.want)) || pts != tt.wantPTS || got.Location() != time.UTC {
			t.Errorf("%s: at %v pts %v, want %v pts %v (UTC)", tt.name, got.Sub(now), pts, tt.want, tt.wantPTS)
		}
	}
	// 30 hours of 90 kHz ticks must not overflow.
	long := int64(30*3600) * 90000
	if got, _ := (&wallClock{started: true, base: now, pts0: 0}).at(now.Add(30*time.Hour), long, 90000, time.Time{}); !got.Equal(now.Add(30 * time.Hour)) {
		t.Errorf("30 h: %v", got.Sub(now))
	}
}
