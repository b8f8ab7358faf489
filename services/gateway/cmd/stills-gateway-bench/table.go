package main

import (
	"fmt"
	"io"
	"time"
)

type results struct {
	entries                               int
	build, open, nearestP99               time.Duration
	indexBytes, columnBytes               int64
	nginx, bare, gateway, redirect, brief load
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func (r results) print(w io.Writer, o options) {
	fmt.Fprintf(w, "\nstills-gateway-bench: wrk -t%d -c%d -d%s, %d-byte JPEG, index of %d entries (built in %s)\n\n",
		o.wrk.threads, o.wrk.conns, o.wrk.duration, o.jpeg, r.entries, r.build.Round(time.Second))
	fmt.Fprintln(w, "| measure | requests/s | p99 | ratio | target | result |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	row := func(name string, l load, ratio, target, res string) {
		errs := ""
		if l.errors != "" {
			errs = " (" + l.errors + ")"
		}
		fmt.Fprintf(w, "| %s%s | %.0f | %s | %s | %s | %s |\n", name, errs, l.rps, ms(l.p99), ratio, target, res)
	}
	row("nginx, preview.jpg from a file", r.nginx, "1.00× nginx", "reference", "")
	row("bare net/http, bytes from memory", r.bare, fmt.Sprintf("%.2f× nginx", r.bare.rps/r.nginx.rps), "reference", "")
	g := r.gateway.rps / r.bare.rps
	row("gateway preview.jpg (routing + token + cache)", r.gateway, fmt.Sprintf("%.2f× net/http, %.2f× nginx", g, r.gateway.rps/r.nginx.rps),
		"≥ 0.9× net/http, p99 ≤ 5 ms", verdict(g >= 0.9 && r.gateway.p99 <= 5*time.Millisecond))
	row("gateway GMT redirect ({unix}-preview.jpg, random time)", r.redirect, "", "≥ 10,000 req/s", verdict(r.redirect.rps >= 10000))
	row("gateway brief_thumbnails (1 h, random hour)", r.brief, "", "≥ 10,000 req/s", verdict(r.brief.rps >= 10000))
	fmt.Fprintf(w, "| index bytes per entry | | | %.1f B (%d B file) | | |\n", float64(r.indexBytes)/float64(r.entries), r.indexBytes)
	fmt.Fprintf(w, "| time column bytes per entry (memory) | | | %.2f B (%d B) | | |\n", float64(r.columnBytes)/float64(r.entries), r.columnBytes)
	fmt.Fprintf(w, "| open: time column rebuild (key scan) | | %s | | | |\n", ms(r.open))
	fmt.Fprintf(w, "| nearest lookup p99 (in-process) | | %s | | | |\n", ms(r.nearestP99))
}
