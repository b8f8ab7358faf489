package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/pion/rtp"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// maxClockSkew is how far the PTS-derived wall time may drift from the
// receive time before it is re-anchored (camera clocks are not ours).
const maxClockSkew = 2 * time.Second

// rtspSource pulls the first H.264 (else H.265) track of one RTSP(S)
// session, over TCP unless Options.Transport is "udp". Credentials in the URL are
// used for Basic/Digest auth by gortsplib.
type rtspSource struct {
	u    *base.URL
	opts Options
}

func newRTSPSource(rawURL string, o Options) (*rtspSource, error) {
	u, err := base.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("source: parse rtsp url: %w", err)
	}
	return &rtspSource{u: u, opts: o}, nil
}

func (s *rtspSource) Run(ctx context.Context, emit func(AccessUnit)) error {
	transport := gortsplib.TransportTCP
	if s.opts.Transport == "udp" {
		transport = gortsplib.TransportUDP
	}
	c := &gortsplib.Client{
		Scheme:       s.u.Scheme,
		Host:         s.u.Host,
		Transport:    &transport,
		ReadTimeout:  s.opts.ReadTimeout,
		WriteTimeout: s.opts.ReadTimeout,
		UserAgent:    "stills-ingest",
		OnPacketsLost: func(lost uint64) {
			s.opts.Log.Warn("rtp packets lost", "count", lost)
		},
		OnDecodeError: func(err error) {
			s.opts.Log.Warn("rtsp decode error", "err", err)
		},
	}
	if err := c.Start2(); err != nil {
		return fmt.Errorf("source: rtsp start: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, c.Close)
	defer stop()

	err := s.play(c, emit)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// track is the video track a session plays.
type track struct {
	medi   *description.Media
	forma  format.Format
	codec  stillsv1.Codec
	params [][]byte // from the SDP
	decode func(*rtp.Packet) ([][]byte, error)
}

// findTrack picks the first H.264 track, else the first H.265 one.
func findTrack(desc *description.Session) (*track, error) {
	var h264f *format.H264
	if medi := desc.FindFormat(&h264f); medi != nil {
		dec, err := h264f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("source: rtp decoder: %w", err)
		}
		t := &track{medi: medi, forma: h264f, codec: stillsv1.Codec_CODEC_H264, decode: dec.Decode}
		if sps, pps := h264f.SafeParams(); sps != nil && pps != nil {
			t.params = [][]byte{sps, pps}
		}
		return t, nil
	}
	var h265f *format.H265
	if medi := desc.FindFormat(&h265f); medi != nil {
		dec, err := h265f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("source: rtp decoder: %w", err)
		}
		t := &track{medi: medi, forma: h265f, codec: stillsv1.Codec_CODEC_H265, decode: dec.Decode}
		if vps, sps, pps := h265f.SafeParams(); vps != nil && sps != nil && pps != nil {
			t.params = [][]byte{vps, sps, pps}
		}
		return t, nil
	}
	return nil, fmt.Errorf("%w: no H.264 or H.265 track in the session", ErrNoVideo)
}

func incomplete(err error) bool {
	return errors.Is(err, rtph264.ErrMorePacketsNeeded) || errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) ||
		errors.Is(err, rtph265.ErrMorePacketsNeeded) || errors.Is(err, rtph265.ErrNonStartingPacketAndNoPrevious)
}

func (s *rtspSource) play(c *gortsplib.Client, emit func(AccessUnit)) error {
	desc, _, err := c.Describe(s.u)
	if err != nil {
		return fmt.Errorf("source: rtsp describe: %w", err)
	}
	tr, err := findTrack(desc)
	if err != nil {
		return err
	}
	if _, err := c.Setup(desc.BaseURL, tr.medi, 0, 0); err != nil {
		return fmt.Errorf("source: rtsp setup: %w", err)
	}

	params := tr.params
	clock := int64(tr.forma.ClockRate())
	t := wallClock{}
	c.OnPacketRTP(tr.medi, tr.forma, func(pkt *rtp.Packet) {
		// gortsplib times packets from the first one that carries a
		// keyframe or parameter set on; the pictures before it are
		// still emitted (at the receive time) so that a camera sending
		// no keyframe is seen online.
		pts, timed := c.PacketPTS2(tr.medi, pkt)
		nalus, err := tr.decode(pkt)
		if err != nil {
			if !incomplete(err) {
				s.opts.Log.Debug("rtp decode", "err", err)
			}
			return
		}
		if !timed {
			emit(AccessUnit{Codec: tr.codec, NALUs: nalus, IsKeyframe: false, Time: time.Now().UTC(), ParamSets: params})
			params = nil
			return
		}
		ntp, hasNTP := c.PacketNTP(tr.medi, pkt)
		if !hasNTP {
			ntp = time.Time{}
		}
		at, d := t.at(time.Now(), pts, clock, ntp)
		emit(AccessUnit{
			Codec:      tr.codec,
			NALUs:      nalus,
			IsKeyframe: IsKeyframe(tr.codec, nalus),
			Time:       at,
			PTS:        d,
			ParamSets:  params,
		})
		params = nil
	})
	if _, err := c.Play(nil); err != nil {
		return fmt.Errorf("source: rtsp play: %w", err)
	}
	return fmt.Errorf("source: rtsp session: %w", c.Wait())
}

// maxNTPSkew: an RTCP sender report time further than this from our clock
// is a camera whose clock is not set; its times are ignored.
const maxNTPSkew = 24 * time.Hour

// wallClock maps RTP presentation times to UTC: the camera's time from its
// RTCP sender reports when it sends them (ntp, zero otherwise), else the
// receive time of the first access unit plus the PTS delta, re-anchored
// when it drifts more than maxClockSkew from the receive time.
type wallClock struct {
	started bool
	base    time.Time
	pts0    int64
}

// at returns the wall time and the PTS since the first access unit.
func (w *wallClock) at(now time.Time, pts, clockRate int64, ntp time.Time) (time.Time, time.Duration) {
	if !w.started {
		w.started, w.base, w.pts0 = true, now, pts
	}
	delta := pts - w.pts0
	d := time.Duration(delta/clockRate)*time.Second + time.Duration(delta%clockRate)*time.Second/time.Duration(clockRate)
	if !ntp.IsZero() {
		if skew := now.Sub(ntp); skew < maxNTPSkew && skew > -maxNTPSkew {
			return ntp.UTC(), d
		}
	}
	at := w.base.Add(d)
	if skew := now.Sub(at); skew > maxClockSkew || skew < -maxClockSkew {
		w.base = now.Add(-d)
		at = now
	}
	return at.UTC(), d
}
