// Command stills-gateway-bench measures the gateway against a bare net/http
// handler and nginx, in one run, with the same load tool (wrk) and
// connections, over an index of many entries; it prints one table. Run by
// `make bench-gateway` (needs wrk and nginx: deploy/setup-bench.sh).
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/layout"
	"github.com/stills-video/stills/pkg/natsembed"
	"github.com/stills-video/stills/services/gateway"
	"github.com/stills-video/stills/services/gateway/internal/auth"
	"github.com/stills-video/stills/services/gateway/internal/index"
)

const (
	stream   = "bench/cam1"
	tokenKey = "bench-token-key-0123456789abcdef"
)

type options struct {
	entries  int
	jpeg     int
	wrk      wrkOpts
	samples  int
	keepData bool
	profile  string
	profStep string
}

func main() {
	var o options
	flag.IntVar(&o.entries, "entries", 10_000_000, "index entries (one per 3 s)")
	flag.IntVar(&o.jpeg, "jpeg-bytes", 16384, "size of the served JPEG")
	flag.IntVar(&o.wrk.threads, "threads", 2, "wrk threads")
	flag.IntVar(&o.wrk.conns, "connections", 64, "wrk connections")
	flag.DurationVar(&o.wrk.duration, "duration", 10*time.Second, "wrk duration per target")
	flag.IntVar(&o.samples, "samples", 200_000, "in-process Nearest lookups for the p99")
	flag.BoolVar(&o.keepData, "keep", false, "keep the temporary directory")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of one wrk step (-cpuprofile-step) to this file")
	flag.StringVar(&o.profStep, "cpuprofile-step", "preview", "the step -cpuprofile records: preview, redirect or brief")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "stills-gateway-bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "stills-gateway-bench-")
	if err != nil {
		return err
	}
	if !o.keepData {
		defer os.RemoveAll(dir)
	}
	o.wrk.dir = dir
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	jpeg := make([]byte, o.jpeg)
	rand.Read(jpeg)
	last := time.Now().UTC().Truncate(time.Second)
	step := 3 * time.Second

	// The index, built directly, then measured in-process.
	fmt.Fprintf(os.Stderr, "building an index of %d entries...\n", o.entries)
	t0 := time.Now()
	db, err := index.Open(filepath.Join(dir, "gateway", "index.db"))
	if err != nil {
		return err
	}
	first, err := buildIndex(db, stream, o.entries, step, last)
	if err != nil {
		db.Close()
		return err
	}
	build := time.Since(t0)
	size := db.Size()
	db.Close()
	fmt.Fprintf(os.Stderr, "built in %s (%d bytes)\n", build.Round(time.Millisecond), size)
	// Reopen: the time column is rebuilt by one key scan.
	t0 = time.Now()
	if db, err = index.Open(filepath.Join(dir, "gateway", "index.db")); err != nil {
		return err
	}
	open, colBytes := time.Since(t0), db.ColumnBytes()
	fmt.Fprintf(os.Stderr, "reopened in %s (time column %d bytes)\n", open.Round(time.Millisecond), colBytes)
	p99, err := nearestP99(db, stream, first, last, o.samples)
	db.Close()
	if err != nil {
		return err
	}

	store, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := store.Put(ctx, layout.JPEG(stream, last), jpeg, "image/jpeg"); err != nil {
		return err
	}
	gwURL, err := startGateway(ctx, dir, store, log)
	if err != nil {
		return err
	}
	token := auth.Sign([]byte(tokenKey), stream, last.Add(24*time.Hour))
	bareURL, stopBare, err := serveBare(jpeg)
	if err != nil {
		return err
	}
	defer stopBare()
	nginxURL, stopNginx, err := serveNginx(filepath.Join(dir, "nginx"), stream+"/preview.jpg", jpeg, runtime.NumCPU())
	if err != nil {
		return err
	}
	defer stopNginx()

	preview := gwURL + "/" + stream + "/preview.jpg?token=" + token
	if err := check(preview, 200, len(jpeg)); err != nil {
		return err
	}
	firstUnix, span := first.Unix(), last.Unix()-first.Unix()
	redirectLua := fmt.Sprintf(`math.randomseed(os.time())
request = function()
  local t = %d + math.random(0, %d)
  return wrk.format("GET", "/%s/" .. t .. "-preview.jpg?token=%s")
end
`, firstUnix, span, stream, token)
	briefLua := fmt.Sprintf(`math.randomseed(os.time())
request = function()
  local t = %d + math.random(0, %d)
  return wrk.format("GET", "/%s/recording_status.json?from=" .. t .. "&to=" .. (t + 3600) .. "&request=ranges,brief_thumbnails&token=%s")
end
`, firstUnix, max(span-3600, 0), stream, token)
	if err := check(fmt.Sprintf("%s/%s/%d-preview.jpg?token=%s", gwURL, stream, firstUnix+span/2, token), 302, -1); err != nil {
		return err
	}

	var r results
	r.entries, r.build, r.indexBytes, r.nearestP99 = o.entries, build, size, p99
	r.open, r.columnBytes = open, colBytes
	steps := []struct {
		name, step string
		url        string
		script     string
		dst        *load
	}{
		{"nginx", "nginx", nginxURL + "/" + stream + "/preview.jpg", "", &r.nginx},
		{"net/http", "bare", bareURL + "/", "", &r.bare},
		{"gateway preview.jpg", "preview", preview, "", &r.gateway},
		{"gateway GMT redirect", "redirect", gwURL, redirectLua, &r.redirect},
		{"gateway brief_thumbnails", "brief", gwURL, briefLua, &r.brief},
	}
	for _, s := range steps {
		fmt.Fprintf(os.Stderr, "wrk: %s...\n", s.name)
		stopProfile := startProfile(o.profile, s.step == o.profStep)
		*s.dst, err = runWrk(o.wrk, s.url, s.script)
		stopProfile()
		if err != nil {
			return err
		}
	}
	r.print(os.Stdout, o)
	return nil
}

func startGateway(ctx context.Context, dir string, store blob.Store, log *slog.Logger) (string, error) {
	ns, err := natsembed.Start(natsembed.Options{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		return "", err
	}
	go func() { <-ctx.Done(); ns.Shutdown() }()
	nc, err := bus.Connect(ns.ClientURL(), "bench", log)
	if err != nil {
		return "", err
	}
	js, err := bus.JetStream(nc)
	if err != nil {
		return "", err
	}
	if err := bus.EnsureStreams(ctx, js, bus.Options{}); err != nil {
		return "", err
	}
	svc, err := gateway.New(gateway.Config{
		Listen:  "127.0.0.1:0",
		DataDir: filepath.Join(dir, "gateway"),
		Streams: []config.Stream{{Name: stream, DVR: config.DVR{Retention: config.Duration(10 * 365 * 24 * time.Hour)}}},
		Auth:    config.Auth{TokenKey: tokenKey},
		Janitor: gateway.JanitorConfig{Off: true},
		Log:     log,
	}, js, store)
	if err != nil {
		return "", err
	}
	go svc.Run(ctx)
	wctx, done := context.WithTimeout(ctx, 10*time.Second)
	defer done()
	addr, err := svc.WaitListening(wctx)
	if err != nil {
		return "", err
	}
	return "http://" + addr, nil
}

// startProfile starts a CPU profile into path when on; the returned func
// stops it.
func startProfile(path string, on bool) func() {
	if path == "" || !on {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cpuprofile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		fmt.Fprintln(os.Stderr, "cpuprofile:", err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// check GETs url once (no redirects) and checks the status and length.
func check(url string, status, length int) error {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || (length >= 0 && len(b) != length) {
		return fmt.Errorf("check %s: %d, %d bytes: %.200s", url, resp.StatusCode, len(b), b)
	}
	return nil
}
