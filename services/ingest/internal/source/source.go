// Package source reads access units from the places a stream URL can point
// to: fake://NAME (a built-in looping test picture), file:///path (MPEG-TS or
// raw Annex-B H.264/H.265, looped in real time) and rtsp:// / rtsps://
// (gortsplib client, TCP or UDP, H.264 or H.265).
package source

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// AccessUnit is one coded picture.
type AccessUnit struct {
	Codec stillsv1.Codec
	// NALUs without start codes, in decode order. Shared with the source:
	// read-only.
	NALUs [][]byte
	// IsKeyframe is true for a random access point (H.264 IDR, H.265
	// IRAP).
	IsKeyframe bool
	// Time is the UTC wall time of the picture, monotonic within a Run.
	Time time.Time
	// PTS is the presentation time since the start of the Run.
	PTS time.Duration
	// ParamSets are parameter sets learnt out of band (the RTSP SDP), set
	// on the first access unit of a Run; in-band ones stay in NALUs.
	ParamSets [][]byte
}

// Source produces access units.
type Source interface {
	// Run reads until ctx ends (returning ctx.Err()) or the source fails,
	// calling emit for every access unit in order, on one goroutine.
	Run(ctx context.Context, emit func(AccessUnit)) error
}

// Options tune the sources. Zero values take the defaults.
type Options struct {
	Log *slog.Logger
	// ReadTimeout of RTSP: no data for this long fails the session;
	// default 10 s.
	ReadTimeout time.Duration
	// Transport of RTSP: "tcp" (default) or "udp".
	Transport string
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 10 * time.Second
	}
	return o
}

// Open returns the source for a stream URL (see config.ValidateSourceURL).
// Opening does no I/O; errors come from Run.
func Open(rawURL string, o Options) (Source, error) {
	o = o.withDefaults()
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("source: parse url: %w", err)
	}
	switch u.Scheme {
	case "fake":
		return &loopSource{load: loadFakeClip, name: "fake://" + u.Host}, nil
	case "file":
		return newFileSource(u.Path), nil
	case "rtsp", "rtsps":
		return newRTSPSource(rawURL, o)
	}
	return nil, fmt.Errorf("%w: scheme %q", ErrUnsupported, u.Scheme)
}

// Redact returns rawURL with any password masked, for logs and status.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
