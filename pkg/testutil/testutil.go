// Package testutil holds helpers for tests across the repository: real
// servers (embedded NATS with JetStream, versitygw as the S3 server), the
// tools the set-up script installs, and polling with a deadline.
// Only _test.go files import it.
package testutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stills-video/stills/pkg/natsembed"
)

// Context returns a context cancelled when the test ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

// Eventually polls cond every 20 ms until it returns nil or timeout passes,
// then fails the test with the last error.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var err error
	for {
		if err = cond(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", timeout, err)
		}
		<-tick.C
	}
}

// NATS is an in-process NATS server with JetStream for one test.
type NATS struct {
	Server *server.Server
	URL    string
	Conn   *nats.Conn
	JS     jetstream.JetStream
}

// StartNATS starts an embedded JetStream server on a random loopback port
// with its store under t.TempDir(); it is shut down when the test ends.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	return StartNATSAt(t, t.TempDir())
}

// StartNATSAt is StartNATS with a chosen store dir (to restart on the
// same data).
func StartNATSAt(t testing.TB, dir string) *NATS {
	t.Helper()
	srv, err := natsembed.Start(natsembed.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		srv.Shutdown()
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nc.Close()
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return &NATS{Server: srv, URL: srv.ClientURL(), Conn: nc, JS: js}
}

// RepoRoot is the directory holding go.work.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testutil: go.work not found above the working directory")
		}
		dir = parent
	}
}

// Tool returns the path of an executable the set-up script installs
// (deploy/setup.sh): first <repo>/.tools/bin, then $PATH. A missing tool
// fails the test: make test runs the set-up first.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), ".tools", "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("testutil: %s not installed; run deploy/setup.sh", name)
	return ""
}

// FreePortAddr returns a loopback host:port that was free a moment ago.
func FreePortAddr(t testing.TB) string {
	t.Helper()
	l, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Ffmpeg runs the ffmpeg CLI with args and fails the test on error.
func Ffmpeg(t testing.TB, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(Tool(t, "ffmpeg"), append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	return out
}

// Must fails the test on err.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Errorf is fmt.Errorf, for Eventually conditions.
var Errorf = fmt.Errorf
