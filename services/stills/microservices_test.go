package stills_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/stills-video/stills/pkg/testutil"
)

// binaries returns the directory of the built binaries: $TEST_STILLS_BIN_DIR
// (make test builds them first) or a fresh go build into a temp dir.
func binaries(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("TEST_STILLS_BIN_DIR"); dir != "" {
		for _, b := range []string{"stills-ingest", "stills-thumbnailer", "stills-gateway"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				t.Fatalf("TEST_STILLS_BIN_DIR=%s: %v (run make build)", dir, err)
			}
		}
		return dir
	}
	dir := t.TempDir()
	root := testutil.RepoRoot(t)
	for _, svc := range []string{"ingest", "thumbnailer", "gateway"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "stills-"+svc), "./cmd/stills-"+svc)
		cmd.Dir = filepath.Join(root, "services", svc)
		if svc != "thumbnailer" {
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", svc, err, out)
		}
	}
	return dir
}

// startNATSProcess runs nats-server as its own process with JetStream and
// the raised max_payload of DESIGN §5.
func startNATSProcess(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	addr := testutil.FreePortAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	conf := filepath.Join(dir, "nats.conf")
	testutil.Must(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"host: %s\nport: %s\nmax_payload: 8MB\njetstream { store_dir: %q }\n", host, port, filepath.Join(dir, "js"))), 0o644))
	p := testutil.StartProcess(t, "nats-server", testutil.Tool(t, "nats-server"), []string{"-c", conf}, nil)
	url := "nats://" + addr
	testutil.Eventually(t, 10*time.Second, func() error {
		if p.Exited() {
			t.Fatalf("nats-server exited: %s", p.Output())
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	return url
}

// Ingest, thumbnailer and gateway as three separate processes, with a
// nats-server process and versitygw as the store, produce the same
// thumbnails as one-box.
func TestMicroservicesAsProcesses(t *testing.T) {
	bins := binaries(t)
	natsURL := startNATSProcess(t)
	s3 := testutil.StartS3(t)
	httpAddr := testutil.FreePortAddr(t)

	const name = "proc/cam"
	conf := filepath.Join(t.TempDir(), "stills.yaml")
	testutil.Must(t, os.WriteFile(conf, []byte(fmt.Sprintf(`
http: {listen: %q}
data_dir: %q
nats: {url: %q}
storage:
  s3: {endpoint: %q, bucket: %q, access_key: %q, secret_key: %q}
thumbnailer: {workers: 1}
streams:
  - name: %s
    url: fake://proc
    segment_duration: 1s
    thumbnails: {sizes: [{width: 320, height: 320}, {width: 160, height: 90}]}
`, httpAddr, t.TempDir(), natsURL, s3.Endpoint, s3.Bucket, s3.AccessKey, s3.SecretKey, name)), 0o644))

	start := func(svc string) *testutil.Process {
		return testutil.StartProcess(t, svc, filepath.Join(bins, "stills-"+svc), []string{"--config", conf}, nil)
	}
	start("thumbnailer")
	start("ingest")
	gw := start("gateway")
	base := "http://" + httpAddr

	ts := waitThumbnails(t, base, name, 3, 40*time.Second)
	for i := 1; i < len(ts); i++ {
		if d := ts[i] - ts[i-1]; d < 1 || d > 2 {
			t.Fatalf("brief_thumbnails %v: step %d s, want about 1 s", ts, d)
		}
	}
	// The canonical JPEG is the first size (640x360 fitted into 320x320 is
	// 320x180), the MP4 is one frame, and both are in the S3 bucket.
	sec := ts[1]
	j := get(t, fmt.Sprintf("%s/%s/%s.jpg", base, name, datePath(sec)))
	if j.status != http.StatusOK {
		t.Fatalf("canonical JPEG: %d %s", j.status, j.body)
	}
	if sz := decodeJPEG(t, j.body).Bounds().Size(); sz.X != 320 || sz.Y != 180 {
		t.Fatalf("canonical JPEG %v, want 320x180", sz)
	}
	m := get(t, fmt.Sprintf("%s/%s/%s-preview.mp4", base, name, datePath(sec)))
	if m.status != http.StatusOK || ffprobeFrames(t, m.body) != 1 {
		t.Fatalf("canonical MP4: %d", m.status)
	}
	mc, err := minio.New(s3.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3.AccessKey, s3.SecretKey, "")})
	testutil.Must(t, err)
	var keys []string
	for obj := range mc.ListObjects(context.Background(), s3.Bucket, minio.ListObjectsOptions{Prefix: name + "/" + datePath(sec), Recursive: true}) {
		testutil.Must(t, obj.Err)
		keys = append(keys, strings.TrimPrefix(obj.Key, name+"/"+datePath(sec)))
	}
	if strings.Join(keys, " ") != "-160x90.jpg -preview.mp4 .jpg" {
		t.Fatalf("objects in S3 for %d: %q", sec, keys)
	}

	// The gateway restarts on its index and answers the same.
	before := get(t, fmt.Sprintf("%s/%s/%d-preview.jpg", base, name, sec))
	testutil.Must(t, gw.Stop())
	start("gateway")
	testutil.Eventually(t, 20*time.Second, func() error {
		r, err := noRedirect.Get(fmt.Sprintf("%s/%s/%d-preview.jpg", base, name, sec))
		if err != nil {
			return err
		}
		r.Body.Close()
		if r.StatusCode != before.status || r.Header.Get("Location") != before.header.Get("Location") {
			return fmt.Errorf("after restart %d %q, before %d %q", r.StatusCode, r.Header.Get("Location"), before.status, before.header.Get("Location"))
		}
		return nil
	})
}
