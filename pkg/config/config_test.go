package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stills.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const good = `
http:
  listen: 127.0.0.1:9090
data_dir: /tmp/stills
storage:
  s3: {endpoint: 127.0.0.1:7070, bucket: stills, access_key: K, secret_key: S}
streams:
  - name: site/cam1
    url: rtsp://user:pw@127.0.0.1:8554/cam1
    segment_duration: 2s
    thumbnails:
      enabled: ondemand
      sizes: [{width: 320, height: 180}]
      quality: 70
    dvr: {retention: 24h}
  - name: demo
    url: fake://demo
    thumbnails: {enabled: false}
`

func TestLoadGood(t *testing.T) {
	cfg, err := Load(write(t, good))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Listen != "127.0.0.1:9090" || cfg.Storage.S3 == nil || cfg.Storage.S3.Bucket != "stills" {
		t.Fatalf("unexpected config %+v", cfg)
	}
	s := cfg.Streams[0]
	if s.SegmentDuration.D() != 2*time.Second || s.Thumbnails.Enabled != ModeOnDemand || s.Thumbnails.Quality != 70 || s.DVR.Retention.D() != 24*time.Hour {
		t.Fatalf("stream 0: %+v", s)
	}
	d := cfg.Streams[1]
	if d.Thumbnails.Enabled != ModeDisabled || d.SegmentDuration.D() != DefaultSegmentDuration || d.Thumbnails.Quality != DefaultQuality {
		t.Fatalf("stream 1 defaults: %+v", d)
	}
	if got := cfg.Streams[0].Settings(); len(got.Sizes) != 1 || got.Sizes[0].Width != 320 || got.Quality != 70 {
		t.Fatalf("wire settings %+v", got)
	}
	if cfg.Masked().Storage.S3.SecretKey != "***" || cfg.Storage.S3.SecretKey != "S" {
		t.Fatal("Masked must copy, not mutate")
	}
}

func TestLoadDefaultsOnly(t *testing.T) {
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Listen != DefaultListen || cfg.NATS.MaxPayload != DefaultMaxPayload || cfg.Storage.Dir != "./data/blobs" {
		t.Fatalf("%+v", cfg)
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, body, key string
	}{
		{"bad name", "streams: [{name: '../x', url: 'fake://a'}]", "streams[0].name"},
		{"bad scheme", "streams: [{name: a, url: 'http://x'}]", "streams[0].url"},
		{"no url", "streams: [{name: a}]", "streams[0].url"},
		{"fake no name", "streams: [{name: a, url: 'fake://'}]", "streams[0].url"},
		{"file relative", "streams: [{name: a, url: 'file://rel/x.ts'}]", "streams[0].url"},
		{"quality", "streams: [{name: a, url: 'fake://a', thumbnails: {quality: 101}}]", "streams[0].thumbnails.quality"},
		{"size", "streams: [{name: a, url: 'fake://a', thumbnails: {sizes: [{width: 2, height: 2}]}}]", "streams[0].thumbnails.sizes[0]"},
		{"snapshot url", "streams: [{name: a, url: 'fake://a', thumbnails: {url: 'ftp://x'}}]", "streams[0].thumbnails.url"},
		{"segment", "streams: [{name: a, url: 'fake://a', segment_duration: 10ms}]", "streams[0].segment_duration"},
		{"retention", "streams: [{name: a, url: 'fake://a', dvr: {retention: 1s}}]", "streams[0].dvr.retention"},
		{"duplicate", "streams: [{name: a, url: 'fake://a'}, {name: a, url: 'fake://b'}]", "streams[1].name"},
		{"s3 bucket", "storage: {s3: {endpoint: 'h:1'}}", "storage.s3.bucket"},
		{"s3 endpoint", "storage: {s3: {endpoint: 'http://h:1/x', bucket: b}}", "storage.s3.endpoint"},
		{"nats url", "nats: {url: 'http://x'}", "nats.url"},
		{"payload", "nats: {max_payload: 10}", "nats.max_payload"},
		{"workers", "thumbnailer: {workers: -1}", "thumbnailer.workers"},
		{"snapshot timeout", "thumbnailer: {snapshot_timeout: 2h}", "thumbnailer.snapshot_timeout"},
		{"snapshot bytes", "thumbnailer: {snapshot_max_bytes: -1}", "thumbnailer.snapshot_max_bytes"},
		{"render timeout", "thumbnailer: {render_timeout: 5m}", "thumbnailer.render_timeout"},
		{"log level", "log: {level: loud}", "log.level"},
		{"data dir", "data_dir: ''", "data_dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.body))
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tc.key {
				t.Fatalf("Load = %v, want an error naming %s", err, tc.key)
			}
		})
	}
}

func TestLoadSyntaxErrors(t *testing.T) {
	for _, body := range []string{
		"http: {listen: [}",
		"unknown_key: 1",
		"streams: [{name: a, url: 'fake://a', thumbnails: {enabled: maybe}}]",
		"streams: [{name: a, url: 'fake://a', segment_duration: soon}]",
	} {
		if _, err := Load(write(t, body)); err == nil {
			t.Errorf("Load(%q) succeeded", body)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestEnvOverrides(t *testing.T) {
	cfg := Default()
	err := ApplyEnv(&cfg, []string{
		"STILLS_HTTP_LISTEN=0.0.0.0:80",
		"STILLS_STORAGE_S3_BUCKET=b",
		"STILLS_STORAGE_S3_SECURE=true",
		"STILLS_NATS_MAX_PAYLOAD=2097152",
		"STILLS_THUMBNAILER_SKIP_LOOP_FILTER=false",
		"STILLS_DATA_DIR=/d",
		"STILLS_THUMBNAILER_RENDER_TIMEOUT=7s",
		"HOME=/root",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Listen != "0.0.0.0:80" || cfg.Storage.S3 == nil || cfg.Storage.S3.Bucket != "b" || !cfg.Storage.S3.Secure ||
		cfg.NATS.MaxPayload != 2097152 || cfg.Thumbnailer.SkipLoopFilter == nil || *cfg.Thumbnailer.SkipLoopFilter || cfg.DataDir != "/d" || cfg.Thumbnailer.RenderTimeout.D() != 7*time.Second {
		t.Fatalf("%+v", cfg)
	}
	for _, bad := range []string{"STILLS_NOPE=1", "STILLS_HTTP_LISTN=x", "STILLS_NATS_MAX_PAYLOAD=big", "STILLS_STORAGE_S3_SECURE=perhaps", "STILLS_STREAMS=x", "STILLS_THUMBNAILER_RENDER_TIMEOUT=7"} {
		c := Default()
		var ce *Error
		if err := ApplyEnv(&c, []string{bad}); !errors.As(err, &ce) || !strings.HasPrefix(bad, ce.Key) {
			t.Errorf("ApplyEnv(%q) = %v, want an error naming the variable", bad, err)
		}
	}
}

func TestModeJSON(t *testing.T) {
	for _, m := range []Mode{ModeEnabled, ModeDisabled, ModeOnDemand} {
		b, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Mode
		if err := back.UnmarshalJSON(b); err != nil || back != m {
			t.Fatalf("round trip %v: %v %v", m, back, err)
		}
	}
	var m Mode
	if err := m.UnmarshalJSON([]byte(`"sometimes"`)); err == nil {
		t.Fatal("accepted a bad mode")
	}
}

func TestLogger(t *testing.T) {
	var b strings.Builder
	Log{Level: "warn", Format: "json"}.Logger(&b).Info("hidden")
	Log{Level: "warn", Format: "json"}.Logger(&b).Warn("shown", "k", 1)
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), `"msg":"shown"`) {
		t.Fatalf("log output %q", b.String())
	}
}

// The demo config that make run uses must always load.
func TestDemoConfigLoads(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "deploy", "stills.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Streams) == 0 {
		t.Fatal("deploy/stills.yaml has no demo streams")
	}
}
