package testutil

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stills-video/stills/pkg/config"
)

// S3Server is a versitygw process serving S3 from a directory (its posix
// backend) on a loopback port, for one test.
type S3Server struct {
	// Config reaches the server; bucket "stills" (blob.NewS3 creates it).
	Config config.S3
	// Dir holds the buckets: object "k" of bucket "b" is Dir/b/k.
	Dir  string
	t    testing.TB
	bin  string
	args []string
	proc *Process
}

// StartS3 starts an S3 server for the test and returns its config.
func StartS3(t testing.TB) config.S3 {
	t.Helper()
	return StartS3Server(t).Config
}

// StartS3Server starts versitygw (`versitygw --access K --secret S
// --port 127.0.0.1:PORT posix [--sidecar META] DIR`, --sidecar only when
// the test's temp filesystem has no user extended attributes) and waits
// until it answers. It is stopped when the test ends.
func StartS3Server(t testing.TB) *S3Server {
	t.Helper()
	return startS3(t, false)
}

// startS3 is StartS3Server; forceSidecar keeps metadata in a sidecar
// directory even where extended attributes work.
func startS3(t testing.TB, forceSidecar bool) *S3Server {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	Must(t, os.Mkdir(dir, 0o755))
	addr := FreePortAddr(t)
	s := &S3Server{
		Config: config.S3{Endpoint: addr, Bucket: "stills", AccessKey: "stills-test", SecretKey: "stills-test-secret"},
		Dir:    dir,
		t:      t,
		bin:    Tool(t, "versitygw"),
	}
	s.args = []string{"--access", s.Config.AccessKey, "--secret", s.Config.SecretKey,
		"--port", addr, "--quiet", "posix"}
	if forceSidecar || !hasXattrs(root) {
		meta := filepath.Join(root, "meta")
		Must(t, os.Mkdir(meta, 0o755))
		s.args = append(s.args, "--sidecar", meta)
	}
	s.args = append(s.args, dir)
	s.Start()
	return s
}

// Start (re)starts the server on the same port and directory, after
// Stop, and waits until it answers. It fails the test if it cannot.
func (s *S3Server) Start() {
	s.t.Helper()
	if s.proc != nil && !s.proc.Exited() {
		s.t.Fatal("testutil: S3 server already running")
	}
	s.proc = StartProcess(s.t, "versitygw", s.bin, s.args, nil)
	if err := waitHTTP(s.proc, "http://"+s.Config.Endpoint+"/", 15*time.Second); err != nil {
		s.proc.Stop()
		s.t.Fatalf("testutil: versitygw %v: %v\n%s", s.args, err, s.proc.Output())
	}
}

// Stop ends the server (a storage outage) until Start.
func (s *S3Server) Stop() {
	s.t.Helper()
	if err := s.proc.Stop(); err != nil {
		s.t.Logf("testutil: versitygw exit: %v", err)
	}
}

// Process is the running (or last) server process.
func (s *S3Server) Process() *Process { return s.proc }

// waitHTTP polls url until any HTTP answer comes back, the process exits,
// or timeout passes.
func waitHTTP(p *Process, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer after %v: %w", timeout, err)
		}
		select {
		case <-p.Done():
			return errors.New("exited before answering")
		case <-tick.C:
		}
	}
}

// hasXattrs reports whether files under dir take user extended
// attributes (versitygw's posix backend keeps object metadata there).
func hasXattrs(dir string) bool {
	f, err := os.CreateTemp(dir, "xattr-probe-")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	return unix.Setxattr(name, "user.stills.probe", []byte("1"), 0) == nil
}
