// Package snapshot fetches a camera's own JPEG snapshot over HTTP, for
// the camera-URL thumbnail mode: bounded in time and size, checked to be a
// JPEG, never following a redirect off the configured host.
package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultTimeout  = 3 * time.Second
	DefaultMaxBytes = 8 << 20
	maxRedirects    = 5
	maxSide         = 16384 // pixels per side of an acceptable snapshot
)

// Failure reasons (the label of stills_thumbnailer_snapshot_failures_total).
const (
	ReasonInvalidURL = "invalid_url" // not an absolute http/https URL
	ReasonTimeout    = "timeout"     // no complete answer within the timeout
	ReasonConnect    = "connect"     // connection refused, DNS, TLS, reset
	ReasonRedirect   = "redirect"    // redirect off the configured host, or too many
	ReasonStatus     = "status"      // an answer other than 200
	ReasonTooLarge   = "too_large"   // body over MaxBytes
	ReasonNotJPEG    = "not_jpeg"    // body is not a complete JPEG
)

// Config of a Fetcher. The zero value takes the defaults.
type Config struct {
	Timeout  time.Duration // whole request, body included; 0 = DefaultTimeout
	MaxBytes int64         // body cap; 0 = DefaultMaxBytes
	// Transport overrides the HTTP transport (tests); nil = a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
}

// Error is a failed fetch; Reason is one of the Reason* constants.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return "snapshot: " + e.Reason + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Image is a fetched JPEG.
type Image struct {
	Data          []byte
	Width, Height int
}

// Fetcher fetches snapshots; safe for concurrent use.
type Fetcher struct {
	cfg    Config
	client *http.Client
}

var errOffHost = errors.New("redirect off the configured host")

// New makes a Fetcher.
func New(cfg Config) *Fetcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	tr := cfg.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil // cameras sit on the operator's LAN
		t.MaxIdleConnsPerHost = 2
		tr = t
	}
	client := &http.Client{
		Transport: tr,
		// Only the configured host (and port) may be followed: a camera may
		// redirect /snapshot to /snapshot.jpg, never elsewhere.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("%w: %d redirects", errOffHost, len(via))
			}
			if !strings.EqualFold(req.URL.Host, via[0].URL.Host) || req.URL.Scheme != via[0].URL.Scheme {
				return fmt.Errorf("%w: %s", errOffHost, req.URL.Redacted())
			}
			return nil
		},
	}
	return &Fetcher{cfg: cfg, client: client}
}

// Fetch GETs rawURL and returns the JPEG, or an *Error.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (Image, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Image{}, &Error{ReasonInvalidURL, fmt.Errorf("%q is not an http(s) URL", redact(rawURL))}
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Image{}, &Error{ReasonInvalidURL, err}
	}
	req.Header.Set("Accept", "image/jpeg")
	resp, err := f.client.Do(req)
	if err != nil {
		return Image{}, classify(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Image{}, &Error{ReasonStatus, fmt.Errorf("HTTP %d", resp.StatusCode)}
	}
	if resp.ContentLength > f.cfg.MaxBytes {
		return Image{}, &Error{ReasonTooLarge, fmt.Errorf("Content-Length %d over %d", resp.ContentLength, f.cfg.MaxBytes)}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return Image{}, classify(ctx, err)
	}
	if int64(len(data)) > f.cfg.MaxBytes {
		return Image{}, &Error{ReasonTooLarge, fmt.Errorf("body over %d bytes", f.cfg.MaxBytes)}
	}
	return check(data)
}

// check accepts a complete baseline/progressive JPEG: a header
// image/jpeg can read, sane dimensions, and the end-of-image marker (a
// truncated transfer lacks it). The picture itself is not decoded: that
// would cost as much as decoding the keyframe.
func check(data []byte) (Image, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Image{}, &Error{ReasonNotJPEG, err}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxSide || cfg.Height > maxSide {
		return Image{}, &Error{ReasonNotJPEG, fmt.Errorf("%dx%d", cfg.Width, cfg.Height)}
	}
	if !bytes.HasSuffix(bytes.TrimRight(data, "\x00\r\n "), []byte{0xff, 0xd9}) {
		return Image{}, &Error{ReasonNotJPEG, errors.New("no end-of-image marker (truncated)")}
	}
	return Image{Data: data, Width: cfg.Width, Height: cfg.Height}, nil
}

// classify maps a transport error to a reason.
func classify(ctx context.Context, err error) *Error {
	var ne net.Error
	switch {
	case errors.Is(err, errOffHost):
		return &Error{ReasonRedirect, err}
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return &Error{ReasonTimeout, err}
	}
	return &Error{ReasonConnect, err}
}

// Reason returns err's reason, or ReasonConnect for a foreign error.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonConnect
}

// redact hides a password in a URL for logs and errors.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}
