package api

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/testutil"
	"github.com/stills-video/stills/services/gateway/internal/live"
)

func mjpegEnv(t *testing.T) (*env, *live.Hub, *httptest.Server) {
	t.Helper()
	hub := live.NewHub()
	e := newEnvWith(t, func(d *Deps) { d.Hub = hub })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	return e, hub, srv
}

func openMJPEG(t *testing.T, url string) (*http.Response, *multipart.Reader) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != 200 || err != nil || mt != "multipart/x-mixed-replace" {
		t.Fatalf("mjpeg: %d %q %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	return resp, multipart.NewReader(resp.Body, params["boundary"])
}

func readPart(t *testing.T, mr *multipart.Reader) (string, string) {
	t.Helper()
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Get("Content-Type") != "image/jpeg" || p.Header.Get("Content-Length") != fmt.Sprint(len(b)) {
		t.Fatalf("part header %v for %d bytes", p.Header, len(b))
	}
	return string(b), p.Header.Get("X-Timestamp")
}

func waitViewers(t *testing.T, hub *live.Hub, stream string, n int) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, func() error {
		if got := hub.Viewers(stream); got != n {
			return fmt.Errorf("%d viewers, want %d", got, n)
		}
		return nil
	})
}

func TestMJPEG(t *testing.T) {
	_, hub, srv := mjpegEnv(t)
	const cam = "site/a/cam1"
	resp, mr := openMJPEG(t, srv.URL+"/"+cam+"/preview.mjpeg")
	if got, _ := readPart(t, mr); got != jpegBytes(cam, (T0+30)*1000) {
		t.Fatalf("first part %q, want the newest thumbnail", got)
	}
	waitViewers(t, hub, cam, 1)
	hub.Publish(cam, live.NewFrame((T0+10)*1000, []byte("older"))) // not newer: skipped
	for i := int64(1); i <= 3; i++ {
		hub.Publish(cam, live.NewFrame((T0+30+i)*1000, []byte(fmt.Sprint("frame", i))))
		got, ts := readPart(t, mr)
		if got != fmt.Sprint("frame", i) || ts != fmt.Sprint((T0+30+i)*1000) {
			t.Fatalf("part %d: %q @%s", i, got, ts)
		}
	}
	resp.Body.Close()
	waitViewers(t, hub, cam, 0) // the handler ended when the client went

	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{"GET", "/off/preview.mjpeg", 403},
		{"HEAD", "/" + cam + "/preview.mjpeg", 200},
		{"GET", "/nope/preview.mjpeg", 404},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.target, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("%s %s: %d, want %d", tc.method, tc.target, resp.StatusCode, tc.status)
		}
	}

	// Closing the hub (server shutdown) ends every response.
	_, mr = openMJPEG(t, srv.URL+"/"+cam+"/preview.mjpeg")
	readPart(t, mr)
	waitViewers(t, hub, cam, 1)
	hub.Close()
	if _, err := mr.NextPart(); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after hub close: %v", err)
	}
}

// A client that stops reading is dropped; a reading one keeps its frames.
func TestMJPEGSlowClient(t *testing.T) {
	_, hub, srv := mjpegEnv(t)
	const cam = "site/a/cam1"
	slow, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET /%s/preview.mjpeg HTTP/1.1\r\nHost: x\r\n\r\n", cam)
	st, err := bufio.NewReader(slow).ReadString('\n')
	if err != nil || st != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("slow client status %q %v", st, err)
	}
	waitViewers(t, hub, cam, 1)
	_, mr := openMJPEG(t, srv.URL+"/"+cam+"/preview.mjpeg")
	readPart(t, mr)
	waitViewers(t, hub, cam, 2)

	big := bytes.Repeat([]byte{0xAB}, 1<<20)
	for i := int64(1); hub.Dropped() == 0; i++ {
		if i > 200 {
			t.Fatal("200 MiB published and the slow client was not dropped")
		}
		hub.Publish(cam, live.NewFrame((T0+30+i)*1000, big))
		if got, _ := readPart(t, mr); len(got) != len(big) {
			t.Fatalf("fast client got %d bytes", len(got))
		}
	}
	if hub.Viewers(cam) != 1 {
		t.Fatalf("viewers after the drop: %d, want the fast one", hub.Viewers(cam))
	}
	hub.Publish(cam, live.NewFrame((T0+9999)*1000, []byte("after")))
	if got, _ := readPart(t, mr); got != "after" {
		t.Fatalf("fast client after the drop: %q", got)
	}
}
