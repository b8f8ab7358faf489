package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// serveBare serves body at every path from memory with a minimal
// net/http handler: the floor of any Go HTTP server.
func serveBare(body []byte) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "image/jpeg")
		h.Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

const nginxConf = `worker_processes %d;
daemon off;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	open_file_cache max=1000 inactive=60s;
	client_body_temp_path %s/tmp;
	proxy_temp_path %s/tmp;
	fastcgi_temp_path %s/tmp;
	uwsgi_temp_path %s/tmp;
	scgi_temp_path %s/tmp;
	types { image/jpeg jpg; }
	server {
		listen %s;
		root %s;
	}
}
`

// serveNginx runs nginx on a loopback port over a root holding path with
// body.
func serveNginx(dir, path string, body []byte, workers int) (string, func(), error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
	}
	root := filepath.Join(dir, "www")
	if err := os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(root, path), body, 0o644); err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	// Workers run as nobody when started by root: everything must be
	// readable.
	for _, p := range []string{filepath.Dir(dir), dir, root} {
		os.Chmod(p, 0o755)
	}
	conf := filepath.Join(dir, "nginx.conf")
	err = os.WriteFile(conf, fmt.Appendf(nil, nginxConf, workers, dir, dir, dir, dir, dir, dir, dir, addr, root), 0o644)
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("nginx: %w", err)
	}
	// SIGQUIT: the master stops its workers (SIGKILL would orphan them).
	stop := func() { cmd.Process.Signal(syscall.SIGQUIT); cmd.Wait() }
	url := "http://" + addr
	for deadline := time.Now().Add(5 * time.Second); ; {
		resp, err := http.Get(url + "/" + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url, stop, nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("nginx did not come up: %v (see %s/error.log)", err, dir)
		}
		time.Sleep(20 * time.Millisecond) // polling a child process start-up
	}
}
