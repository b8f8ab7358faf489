package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// load is what wrk measured.
type load struct {
	rps    float64
	p99    time.Duration
	errors string // non-2xx/3xx or socket errors, as wrk printed them
}

type wrkOpts struct {
	threads, conns int
	duration       time.Duration
	dir            string // for Lua scripts
}

// runWrk loads url (or, with script, the requests the Lua script makes
// against the base url).
func runWrk(o wrkOpts, url, script string) (load, error) {
	args := []string{"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.conns), "-d", o.duration.String(), "--latency"}
	if script != "" {
		f, err := os.CreateTemp(o.dir, "wrk-*.lua")
		if err != nil {
			return load{}, err
		}
		f.WriteString(script)
		f.Close()
		args = append(args, "-s", filepath.Clean(f.Name()))
	}
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return load{}, fmt.Errorf("wrk %s: %v\n%s", url, err, out)
	}
	return parseWrk(out)
}

func parseWrk(out []byte) (load, error) {
	var l load
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			l.rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "99%":
			d, err := time.ParseDuration(strings.Replace(f[1], "us", "µs", 1))
			if err == nil {
				l.p99 = d
			}
		case len(f) > 0 && (f[0] == "Non-2xx" || f[0] == "Socket"):
			l.errors = strings.Join(f, " ")
		}
	}
	if l.rps == 0 {
		return l, fmt.Errorf("wrk output without Requests/sec:\n%s", out)
	}
	return l, nil
}
