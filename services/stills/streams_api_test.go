package stills_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/testutil"
)

// apiDo sends one admin API request with a JSON body.
func apiDo(t *testing.T, method, url, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	testutil.Must(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := noRedirect.Do(req)
	testutil.Must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	testutil.Must(t, err)
	return response{resp.StatusCode, resp.Header, b}
}

type streamView struct {
	Name            string `json:"name"`
	Status          string `json:"status"`
	ThumbnailsTotal int    `json:"thumbnails_total"`
}

func listStreams(base string) ([]streamView, error) {
	r, err := getOK(base + "/api/streams")
	if err != nil {
		return nil, err
	}
	var vs []streamView
	if err := json.Unmarshal(r.body, &vs); err != nil {
		return nil, fmt.Errorf("list: %v: %s", err, r.body)
	}
	return vs, nil
}

// A stream added through the admin API produces thumbnails without a
// restart, and stops producing them after DELETE.
func TestOneBox_StreamsAddedAndRemovedByAPI(t *testing.T) {
	const name, segment = "live/cam", time.Second
	base := startOneBox(t) // no streams in the config

	if vs, err := listStreams(base); err != nil || len(vs) != 0 {
		t.Fatalf("list before: %+v, %v", vs, err)
	}
	if r := get(t, base+"/"+name+"/preview.jpg"); r.status != http.StatusNotFound {
		t.Fatalf("preview.jpg before the stream exists: %d", r.status)
	}
	if r := apiDo(t, "PUT", base+"/api/streams/"+name, `{"url":"fake://cam","thumbnails":{"quality":101}}`); r.status != http.StatusBadRequest {
		t.Fatalf("invalid PUT: %d %s", r.status, r.body)
	}
	r := apiDo(t, "PUT", base+"/api/streams/"+name, fmt.Sprintf(`{"url":"fake://cam","segment_duration":%q}`, segment))
	if r.status != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}

	testutil.Eventually(t, 30*time.Second, func() error {
		_, err := getOK(base + "/" + name + "/preview.jpg")
		return err
	})
	// Two thumbnails: the stream is being pulled segment after segment, so
	// that it stops below means something.
	testutil.Eventually(t, 20*time.Second, func() error {
		vs, err := listStreams(base)
		if err != nil {
			return err
		}
		if len(vs) != 1 || vs[0].Name != name || vs[0].Status != "online" || vs[0].ThumbnailsTotal < 2 {
			return fmt.Errorf("list %+v, want %s online with 2 thumbnails", vs, name)
		}
		return nil
	})

	if r := apiDo(t, "DELETE", base+"/api/streams/"+name, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if vs, err := listStreams(base); err != nil || len(vs) != 0 {
		t.Fatalf("list after DELETE: %+v, %v", vs, err)
	}
	if r := apiDo(t, "DELETE", base+"/api/streams/"+name, ""); r.status != http.StatusNotFound {
		t.Fatalf("second DELETE: %d %s", r.status, r.body)
	}
	// Thumbnails already in flight may still land; then no new ones for
	// three segment durations: the ingest stopped pulling.
	var (
		last    = -1
		stable  time.Time
		quiet   = 3 * segment
		started = time.Now()
	)
	testutil.Eventually(t, 30*time.Second, func() error {
		ts, err := briefThumbnails(base, name)
		if err != nil {
			return err
		}
		now := time.Now()
		if len(ts) != last {
			last, stable = len(ts), now
		}
		if d := now.Sub(stable); d < quiet {
			return fmt.Errorf("%d thumbnails, unchanged for %v of %v (%v after DELETE)", last, d, quiet, now.Sub(started))
		}
		return nil
	})

	if r := get(t, base+"/never/configured/preview.jpg"); r.status != http.StatusNotFound {
		t.Fatalf("preview.jpg of a never-configured stream: %d", r.status)
	}
}
