package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/gateway/internal/index"
)

func TestRecordingStatus(t *testing.T) {
	e := newEnv(t)
	const cam = "site/a/cam1"
	for _, tc := range []struct {
		name   string
		target string
		want   string
	}{
		{"available", "/" + cam + "/recording_status.json", fmt.Sprintf(`{"site/a/cam1":{"from":%d,"to":%d}}`, T0, T0+30)},
		{"available, nothing yet", "/empty/recording_status.json", `{"empty":{}}`},
		{"ranges", fmt.Sprintf("/%s/recording_status.json?from=%d&to=%d", cam, T0, T0+100),
			fmt.Sprintf(`[{"stream":"site/a/cam1","ranges":[{"from":%d,"duration":9},{"from":%d,"duration":3}]}]`, T0, T0+30)},
		{"ranges asked", fmt.Sprintf("/%s/recording_status.json?from=%d&to=now&request=ranges", cam, T0),
			fmt.Sprintf(`[{"stream":"site/a/cam1","ranges":[{"from":%d,"duration":9},{"from":%d,"duration":3}]}]`, T0, T0+30)},
		{"brief thumbnails", fmt.Sprintf("/%s/recording_status.json?from=%d&to=now&request=ranges,brief_thumbnails", cam, T0-5),
			fmt.Sprintf(`[{"stream":"site/a/cam1","ranges":[{"from":%d,"duration":9},{"from":%d,"duration":3}],"brief_thumbnails":[%d,%d,%d,%d]}]`,
				T0, T0+30, T0, T0+3, T0+6, T0+30)},
		{"window", fmt.Sprintf("/%s/recording_status.json?from=%d&to=%d&request=brief_thumbnails", cam, T0+4, T0+10),
			fmt.Sprintf(`[{"stream":"site/a/cam1","ranges":[{"from":%d,"duration":3}],"brief_thumbnails":[%d]}]`, T0+6, T0+6)},
		{"to is inclusive", fmt.Sprintf("/%s/recording_status.json?from=%d&to=%d", cam, T0+30, T0+30),
			fmt.Sprintf(`[{"stream":"site/a/cam1","ranges":[{"from":%d,"duration":3}]}]`, T0+30)},
		{"empty window", fmt.Sprintf("/%s/recording_status.json?from=%d&to=%d&request=brief_thumbnails", cam, T0+7, T0+29),
			`[{"stream":"site/a/cam1","ranges":[]}]`},
		{"only from: to is now", fmt.Sprintf("/%s/recording_status.json?from=%d", cam, T0+29),
			fmt.Sprintf(`[{"stream":"site/a/cam1","ranges":[{"from":%d,"duration":3}]}]`, T0+30)},
		{"segment duration from config", "/off/recording_status.json?from=0&to=now",
			fmt.Sprintf(`[{"stream":"off","ranges":[{"from":%d,"duration":25}]}]`, T0)},
		{"disabled stream still has status", "/off/recording_status.json",
			fmt.Sprintf(`{"off":{"from":%d,"to":%d}}`, T0, T0+15)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do("GET", tc.target)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			var got, want any
			if err := json.Unmarshal([]byte(body(t, resp)), &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				b, _ := json.Marshal(got)
				t.Fatalf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
	if resp := e.do("GET", "/nope/recording_status.json"); resp.StatusCode != 404 {
		t.Fatalf("unknown stream: %d", resp.StatusCode)
	}
}

func TestRanges(t *testing.T) {
	for _, tc := range []struct {
		times []int64
		seg   time.Duration
		want  []statusRange
	}{
		{nil, 3 * time.Second, nil},
		{[]int64{1000}, 0, []statusRange{{1, 3}}},
		{[]int64{1000, 7000, 13001}, 3 * time.Second, []statusRange{{1, 9}, {13, 3}}},
		{[]int64{1000, 2500}, 1500 * time.Millisecond, []statusRange{{1, 3}}},
	} {
		if got := ranges(nil, tc.times, tc.seg); !slices.Equal(got, tc.want) {
			t.Errorf("ranges(%v, %v) = %v, want %v", tc.times, tc.seg, got, tc.want)
		}
		// Appending to a used buffer gives the same ranges.
		if got := ranges([]statusRange{{7, 7}}[:0], tc.times, tc.seg); !slices.Equal(got, tc.want) {
			t.Errorf("ranges into a buffer: %v", got)
		}
	}
}

// statusItem is the shape appendStatus encodes, for encoding/json to
// compare with.
type statusItem struct {
	Stream          string        `json:"stream"`
	Ranges          []statusRange `json:"ranges"`
	BriefThumbnails []int64       `json:"brief_thumbnails,omitempty"`
}

func TestAppendStatusMatchesJSON(t *testing.T) {
	for _, tc := range []struct {
		stream string
		ranges []statusRange
		times  []int64
		brief  bool
	}{
		{"a/b", nil, nil, true},
		{"a/b", []statusRange{{1, 3}}, []int64{1000}, false},
		{"cam-1_x.y/z", []statusRange{{1, 2}, {30, 4}}, []int64{1000, 2999, 30_001}, true},
		{`q"\<>&é` + "\n", []statusRange{{1, 2}}, []int64{1500}, true},
	} {
		it := statusItem{Stream: tc.stream, Ranges: tc.ranges}
		if it.Ranges == nil {
			it.Ranges = []statusRange{}
		}
		if tc.brief {
			for _, ms := range tc.times {
				it.BriefThumbnails = append(it.BriefThumbnails, ms/1000)
			}
		}
		want, _ := json.Marshal([]statusItem{it})
		if got := string(appendStatus([]byte("junk")[:0], tc.stream, tc.ranges, tc.times, tc.brief)); got != string(want)+"\n" {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func TestAppendSeconds(t *testing.T) {
	times := []int64{0, 999, 1000, 9_999_999, 10_000_000, 10_000_999, 99_999_000, 100_000_000,
		1_700_000_000_000, 1_700_000_009_999, 1_700_009_999_000, 1_700_010_000_000, 1_700_010_001_500, 9_223_372_036_854_775_807}
	want, _ := json.Marshal(func() []int64 {
		var s []int64
		for _, ms := range times {
			s = append(s, ms/1000)
		}
		return s
	}())
	if got := appendSeconds(nil, times); string(got) != string(want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := appendSeconds(nil, nil); string(got) != "[]" {
		t.Fatalf("empty: %s", got)
	}
}

func TestWantsBrief(t *testing.T) {
	for req, want := range map[string]bool{
		"": false, "ranges": false, "brief_thumbnails": true, "ranges,brief_thumbnails": true,
		"brief_thumbnails,ranges": true, "brief_thumbnailsx": false, ",,brief_thumbnails,": true, "brief": false,
	} {
		if got := wantsBrief(req); got != want {
			t.Errorf("wantsBrief(%q) = %v", req, got)
		}
	}
}

// BenchmarkBriefThumbnailsHour is one recording_status.json request for a
// one-hour window (1,200 thumbnails, 3 s apart) of a 100,000-entry stream.
func BenchmarkBriefThumbnailsHour(b *testing.B) {
	e := newEnv(b)
	const (
		cam  = "site/a/cam1"
		n    = 100_000
		step = 3000
	)
	start := (T0 + 3600) * 1000 // after newEnv's entries
	msgs := make([]index.Message, 0, 4096)
	for i := range n {
		e.seq++
		msgs = append(msgs, index.Message{Seq: e.seq, Event: &stillsv1.ThumbnailStored{Stream: cam, TimeMs: start + int64(i)*step,
			Mp4: &stillsv1.StoredObject{Key: fmt.Sprintf("%s/%d.mp4", cam, i)}}})
		if len(msgs) == cap(msgs) || i == n-1 {
			if _, err := e.db.Apply(msgs); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	from := start/1000 + n*step/1000/2
	r := httptest.NewRequest("GET", fmt.Sprintf("/%s/recording_status.json?from=%d&to=%d&request=ranges,brief_thumbnails", cam, from, from+3600), nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 200 || strings.Count(w.Body.String(), ",") < 1200 {
		b.Fatalf("%d %.200s", w.Code, w.Body.String())
	}
	b.ReportAllocs()
	d := &discardWriter{h: http.Header{}}
	for b.Loop() {
		e.h.ServeHTTP(d, r)
		if d.code != 200 {
			b.Fatal(d.code)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status: what a
// benchmark measures is the handler, not a recorder's buffer.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
