package api

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stills-video/stills/pkg/streamname"
)

// kind is the form of a stream URL.
type kind int

const (
	kindPreviewJPEG     kind = iota // {name}/preview.jpg
	kindPreviewMP4                  // {name}/preview.mp4
	kindStatus                      // {name}/recording_status.json
	kindDateJPEG                    // {name}/YYYY/MM/DD/HH/MM/SS.jpg
	kindDateMP4                     // {name}/YYYY/MM/DD/HH/MM/SS-preview.mp4
	kindUnixPreviewJPEG             // {name}/{unix}-preview.jpg
	kindUnixJPEG                    // {name}/{unix}.jpg
	kindUnixPreviewMP4              // {name}/{unix}-preview.mp4
	kindPreviewMJPEG                // {name}/preview.mjpeg
)

var kindNames = [...]string{"preview_jpg", "preview_mp4", "recording_status", "dvr_jpg", "dvr_mp4",
	"unix_preview_jpg", "unix_jpg", "unix_preview_mp4", "preview_mjpeg"}

func (k kind) String() string { return kindNames[k] }

// isJPEG reports whether the form serves JPEGs (403 when they are off).
func (k kind) isJPEG() bool {
	switch k {
	case kindPreviewJPEG, kindPreviewMJPEG, kindDateJPEG, kindUnixJPEG, kindUnixPreviewJPEG:
		return true
	}
	return false
}

// route is a parsed stream URL.
type route struct {
	name  string
	kind  kind
	unix  int64 // the second of the date and unix forms
	want  size  // ?width=&height= of JPEG forms
	query url.Values
}

// maxUnix bounds {unix} (year 9999).
const maxUnix = 253402300799

// parsePath parses the path of a stream URL (decoded, leading '/'). The
// forms are matched on the suffix, since a stream name may hold '/'.
func parsePath(p string) (route, error) {
	tail, ok := strings.CutPrefix(p, "/")
	i := strings.LastIndexByte(tail, '/')
	if !ok || i < 0 {
		return route{}, fmt.Errorf("%w: no such resource", ErrNotFound)
	}
	prefix, file := tail[:i], tail[i+1:]
	rt, err := parseFile(prefix, file)
	if err != nil {
		return route{}, err
	}
	if err := streamname.Validate(rt.name); err != nil {
		return route{}, err
	}
	return rt, nil
}

func parseFile(prefix, file string) (route, error) {
	switch file {
	case "preview.jpg":
		return route{name: prefix, kind: kindPreviewJPEG}, nil
	case "preview.mp4":
		return route{name: prefix, kind: kindPreviewMP4}, nil
	case "preview.mjpeg":
		return route{name: prefix, kind: kindPreviewMJPEG}, nil
	case "recording_status.json":
		return route{name: prefix, kind: kindStatus}, nil
	}
	if rt, ok, err := parseDate(prefix, file); ok || err != nil {
		return rt, err
	}
	for _, f := range []struct {
		suffix string
		kind   kind
	}{
		{"-preview.jpg", kindUnixPreviewJPEG},
		{"-preview.mp4", kindUnixPreviewMP4},
		{".jpg", kindUnixJPEG},
	} {
		digits, ok := strings.CutSuffix(file, f.suffix)
		if !ok || !allDigits(digits) {
			continue
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n > maxUnix {
			return route{}, fmt.Errorf("%w: time %q out of range", ErrBadRequest, digits)
		}
		return route{name: prefix, kind: f.kind, unix: n}, nil
	}
	return route{}, fmt.Errorf("%w: no such resource", ErrNotFound)
}

// parseDate matches <name>/YYYY/MM/DD/HH/MM/SS.jpg and SS-preview.mp4.
func parseDate(prefix, file string) (route, bool, error) {
	var k kind
	var ss string
	if s, ok := strings.CutSuffix(file, ".jpg"); ok && len(s) == 2 && allDigits(s) {
		k, ss = kindDateJPEG, s
	} else if s, ok := strings.CutSuffix(file, "-preview.mp4"); ok && len(s) == 2 && allDigits(s) {
		k, ss = kindDateMP4, s
	} else {
		return route{}, false, nil
	}
	parts := strings.Split(prefix, "/")
	if len(parts) < 6 {
		return route{}, false, nil
	}
	date := parts[len(parts)-5:]
	for j, w := range []int{4, 2, 2, 2, 2} {
		if len(date[j]) != w || !allDigits(date[j]) {
			return route{}, false, nil
		}
	}
	var f [6]int
	for j, s := range append(date, ss) {
		f[j], _ = strconv.Atoi(s)
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, time.UTC)
	if t.Year() != f[0] || int(t.Month()) != f[1] || t.Day() != f[2] || t.Hour() != f[3] ||
		t.Minute() != f[4] || t.Second() != f[5] || t.Unix() < 0 {
		return route{}, false, fmt.Errorf("%w: no such date %s/%s", ErrBadRequest, strings.Join(date, "/"), ss)
	}
	name := strings.Join(parts[:len(parts)-5], "/")
	return route{name: name, kind: k, unix: t.Unix()}, true, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
