package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/services/ingest/internal/segmenter"
	"github.com/stills-video/stills/services/ingest/internal/source"
)

// StreamStatus is the state of one stream (GET /api/streams, DESIGN §6).
type StreamStatus struct {
	Name string `json:"name"`
	// URL with any password masked.
	URL string `json:"url"`
	// Status is starting, online, offline or error.
	Status         string    `json:"status"`
	LastKeyframeAt time.Time `json:"last_keyframe_at,omitzero"`
	// SegmentsPublished counts the events JetStream acknowledged.
	SegmentsPublished uint64 `json:"segments_total"`
	// Errors counts source, publish and refusal errors.
	Errors    uint64 `json:"errors_total"`
	LastError string `json:"error,omitempty"`
}

// Status reports every configured stream, in configuration order.
func (s *Service) Status() []StreamStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StreamStatus, 0, len(s.streams))
	for _, st := range s.streams {
		if p := s.pulls[st.Name]; p != nil {
			out = append(out, p.status(s.cfg.KeyframeTimeout))
			continue
		}
		out = append(out, StreamStatus{Name: st.Name, URL: source.Redact(st.URL), Status: StatusOffline})
	}
	return out
}

// pull is the goroutine reading one stream.
type pull struct {
	stream config.Stream
	cancel context.CancelFunc
	done   chan struct{}
	secret string // the URL's password, masked out of error texts

	mu    sync.Mutex
	st    StreamStatus
	since time.Time // online since
}

func newPull(st config.Stream) *pull {
	p := &pull{stream: st, done: make(chan struct{})}
	if u, err := url.Parse(st.URL); err == nil && u.User != nil {
		p.secret, _ = u.User.Password()
	}
	p.st = StreamStatus{Name: st.Name, URL: source.Redact(st.URL), Status: StatusStarting}
	return p
}

func (s *Service) startPull(parent context.Context, p *pull) {
	ctx, cancel := context.WithCancel(parent)
	p.cancel = cancel
	s.m.setStatus(p.stream.Name, StatusStarting)
	go s.runPull(ctx, p)
}

func (p *pull) stop() {
	p.cancel()
	<-p.done
}

// status is the stream's state; an online stream without a keyframe for
// keyframeTimeout (since it came online or since the last one) says so in
// its error.
func (p *pull) status(keyframeTimeout time.Duration) StreamStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.st
	if st.Status == StatusOnline {
		last := st.LastKeyframeAt
		if p.since.After(last) {
			last = p.since
		}
		if d := time.Since(last); d > keyframeTimeout {
			st.LastError = fmt.Sprintf("no keyframe for %v", d.Round(time.Second))
		}
	}
	return st
}

func (s *Service) runPull(ctx context.Context, p *pull) {
	defer close(p.done)
	name := p.stream.Name
	log := s.log.With("stream", name, "url", source.Redact(p.stream.URL))
	setStatus := func(st string) {
		p.mu.Lock()
		changed := p.st.Status != st
		p.st.Status = st
		if st == StatusOnline {
			p.st.LastError = ""
			p.since = time.Now()
		}
		p.mu.Unlock()
		s.m.setStatus(name, st)
		if changed {
			s.kickStatus()
		}
	}
	defer setStatus(StatusOffline)

	src, err := source.Open(p.stream.URL, source.Options{Log: log, ReadTimeout: s.cfg.ReadTimeout, Transport: p.stream.RTSPTransport})
	if err != nil { // validated URLs open; nothing to retry
		p.fail(err)
		setStatus(StatusError)
		log.Error("stream cannot start", "err", p.redact(err))
		<-ctx.Done()
		return
	}
	seg := segmenter.New(p.stream.SegmentDuration.D())
	bo := newBackoff(s.cfg.RetryMin, s.cfg.RetryMax)
	var lastKey time.Time // keyframe times are kept increasing across sessions
	for {
		setStatus(StatusStarting)
		online := false
		err := src.Run(ctx, func(au source.AccessUnit) {
			if !online {
				online = true
				bo.reset()
				setStatus(StatusOnline)
				log.Info("stream online", "codec", au.Codec.String())
			}
			if au.IsKeyframe {
				if !au.Time.After(lastKey) {
					au.Time = lastKey.Add(time.Millisecond)
				}
				lastKey = au.Time
			}
			sg, ok, err := seg.Push(au)
			if err != nil {
				s.m.sourceErrors.WithLabelValues(name).Inc()
				p.fail(err)
				log.Warn("segment skipped", "err", err)
			}
			if !ok {
				return
			}
			p.keyframe(sg.Time)
			if err := s.pub.Publish(ctx, p.stream, sg); err != nil && ctx.Err() == nil {
				p.fail(err)
			}
		})
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("source ended")
		}
		s.m.sourceErrors.WithLabelValues(name).Inc()
		s.m.reconnects.WithLabelValues(name).Inc()
		p.fail(err)
		if source.Unreachable(err) {
			setStatus(StatusOffline)
		} else {
			setStatus(StatusError)
		}
		wait := bo.wait()
		log.Warn("stream failed, reconnecting", "err", p.redact(err), "in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// maxErrorLen bounds an error text in the status (a hostile server's
// reply can end up in it).
const maxErrorLen = 300

// redact returns err's text without the URL's password, control
// characters or invalid UTF-8, at most maxErrorLen bytes.
func (p *pull) redact(err error) string {
	msg := err.Error()
	if p.secret != "" {
		msg = strings.ReplaceAll(msg, p.secret, "xxxxx")
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(msg, "?"))
	if len(msg) > maxErrorLen {
		msg = strings.ToValidUTF8(msg[:maxErrorLen], "") + "…"
	}
	return msg
}

func (p *pull) fail(err error) {
	msg := p.redact(err)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Errors++
	p.st.LastError = msg
}

func (p *pull) keyframe(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.LastKeyframeAt = t
}

// published records the publisher's result for one segment.
func (p *pull) published(err error) {
	if err != nil {
		p.fail(err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.SegmentsPublished++
}
