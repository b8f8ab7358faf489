package testutil

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestS3Server(t *testing.T) {
	for _, sidecar := range []bool{false, true} {
		name := "xattrs"
		if sidecar {
			name = "sidecar"
		}
		t.Run(name, func(t *testing.T) {
			s := startS3(t, sidecar)
			if got := strings.Contains(strings.Join(s.args, " "), "--sidecar"); got != (sidecar || !hasXattrs(t.TempDir())) {
				t.Errorf("args %q: sidecar = %v", s.args, got)
			}
			answers(t, s, true)
			s.Stop()
			if !s.Process().Exited() {
				t.Error("process still running after Stop")
			}
			answers(t, s, false)
			s.Start()
			answers(t, s, true)
		})
	}
}

func TestStartS3Config(t *testing.T) {
	cfg := StartS3(t)
	if cfg.Endpoint == "" || cfg.Bucket == "" || cfg.AccessKey == "" || cfg.SecretKey == "" || cfg.Secure {
		t.Errorf("config = %+v", cfg)
	}
}

func TestS3ServerStartTwice(t *testing.T) {
	s := StartS3Server(t)
	if msg := fatalOf(t, func(tb testing.TB) { s.t = tb; s.Start() }); !strings.Contains(msg, "already running") {
		t.Errorf("second Start: %q", msg)
	}
}

// answers checks whether the server answers HTTP.
func answers(t *testing.T, s *S3Server, want bool) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + s.Config.Endpoint + "/")
	if err == nil {
		resp.Body.Close()
	}
	if got := err == nil; got != want {
		t.Errorf("server answers = %v (%v), want %v", got, err, want)
	}
}

func TestWaitHTTP(t *testing.T) {
	exits := StartProcess(t, "sh", "/bin/sh", []string{"-c", "exit 0"}, nil)
	if err := waitHTTP(exits, "http://"+FreePortAddr(t)+"/", 5*time.Second); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("waitHTTP on an exited process = %v", err)
	}
	sleeps := StartProcess(t, "sh", "/bin/sh", []string{"-c", "exec sleep 60"}, nil)
	if err := waitHTTP(sleeps, "http://"+FreePortAddr(t)+"/", 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("waitHTTP with nothing listening = %v", err)
	}
}

func TestS3ServerFailsToStart(t *testing.T) {
	s := StartS3Server(t)
	s.Stop()
	s.args = append(s.args[:len(s.args)-1], filepath.Join(t.TempDir(), "missing"))
	if msg := fatalOf(t, func(tb testing.TB) { s.t = tb; s.Start() }); !strings.Contains(msg, "versitygw") {
		t.Errorf("Start on a missing dir: %q", msg)
	}
}

func TestHasXattrs(t *testing.T) {
	if hasXattrs(filepath.Join(t.TempDir(), "missing")) {
		t.Error("hasXattrs on a missing dir = true")
	}
	if _, err := os.Stat(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Logf("user xattrs on the temp dir: %v", hasXattrs(t.TempDir()))
}
