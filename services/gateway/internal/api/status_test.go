package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
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
		{nil, 3 * time.Second, []statusRange{}},
		{[]int64{1000}, 0, []statusRange{{1, 3}}},
		{[]int64{1000, 7000, 13001}, 3 * time.Second, []statusRange{{1, 9}, {13, 3}}},
		{[]int64{1000, 2500}, 1500 * time.Millisecond, []statusRange{{1, 3}}},
	} {
		if got := ranges(tc.times, tc.seg); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ranges(%v, %v) = %v, want %v", tc.times, tc.seg, got, tc.want)
		}
	}
}

func TestAppendStatusMatchesJSON(t *testing.T) {
	for _, it := range []statusItem{
		{Stream: "a/b", Ranges: []statusRange{}},
		{Stream: `q"\<>&`, Ranges: []statusRange{{1, 2}, {30, 4}}, BriefThumbnails: []int64{1, 2, 3}},
	} {
		want, _ := json.Marshal([]statusItem{it})
		if got := string(appendStatus(nil, it)); got != string(want)+"\n" {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}
