package api

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHostilePaths(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("a", 201)
	for _, tc := range []struct {
		target string
		status int
	}{
		{"/../preview.jpg", 400},
		{"/%2e%2e/preview.jpg", 400},
		{"/%2E%2E/%2E%2E/etc/passwd", 404},
		{"/site/%2e%2e/%2e%2e/preview.jpg", 400},
		{"/site/a/../cam1/preview.jpg", 400},
		{"/site/./cam1/preview.jpg", 400},
		{"/./preview.jpg", 400},
		{"/cam%00/preview.jpg", 400},
		{"/cam/preview.jpg%00", 404},
		{"/cam%5c..%5cx/preview.jpg", 400},
		{"/..%5c..%5cwindows/preview.jpg", 400},
		{"/cam%2f..%2fsecret/preview.jpg", 400},
		{"/cam%20x/preview.jpg", 400},
		{"/cam:x/preview.jpg", 400},
		{"/%e2%80%aecam/preview.jpg", 400},
		{"/" + long + "/preview.jpg", 400},
		{"/" + strings.Repeat("a/", 120) + "preview.jpg", 400},
		{"//preview.jpg", 400},
		{"/preview.jpg", 404},
		{"/site//cam1/preview.jpg", 400},
		{"/site/a/cam1/", 404},
		{"/site/a/cam1/-1.jpg", 404},
		{"/site/a/cam1/1e9.jpg", 404},
		{"/site/a/cam1/+1700000000.jpg", 404},
		{"/site/a/cam1/0x10-preview.jpg", 404},
		{"/site/a/cam1/2023/11/14/22/13/2.jpg", 404},
		{"/site/a/cam1/2023/11/14/22/13/-1.jpg", 404},
		{"/2023/11/14/22/13/20.jpg", 404},
		{"/site/a/cam1/0000/00/00/00/00/00.jpg", 400},
		{"/site/a/cam1/recording_status.json?from=-1&to=now", 400},
		{"/site/a/cam1/recording_status.json?from=1e3", 400},
		{"/site/a/cam1/recording_status.json?from=10&to=5", 400},
		{"/site/a/cam1/recording_status.json?to=99999999999999", 400},
	} {
		t.Run(tc.target, func(t *testing.T) {
			resp := e.do("GET", tc.target)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			code := map[int]string{400: "bad_request", 404: "not_found"}[tc.status]
			checkErrorBody(t, resp, tc.status, code)
		})
	}
}

// TestHostileRawRequests sends paths a client library would clean, over a
// real connection.
func TestHostileRawRequests(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	for _, target := range []string{
		"/../../etc/passwd/preview.jpg",
		"/site/a/cam1/../../../preview.jpg",
		"/site\\a/preview.jpg",
		"/%00/preview.jpg",
	} {
		t.Run(target, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 400 && resp.StatusCode != 404 {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/a/preview.jpg", "/a/b/2023/11/14/22/13/20.jpg", "/a/1700000000-preview.mp4", "/../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rt, err := parsePath(p)
		if err != nil {
			return
		}
		if strings.Contains(rt.name, "..") && strings.Contains("/"+rt.name+"/", "/../") {
			t.Fatalf("accepted %q as %q", p, rt.name)
		}
	})
}
