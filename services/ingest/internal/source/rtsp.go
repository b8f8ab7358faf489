package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// maxClockSkew is how far the PTS-derived wall time may drift from the
// receive time before it is re-anchored (camera clocks are not ours).
const maxClockSkew = 2 * time.Second

// rtspSource pulls one RTSP(S) session over TCP. Credentials in the URL are
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
	tcp := gortsplib.TransportTCP
	c := &gortsplib.Client{
		Scheme:       s.u.Scheme,
		Host:         s.u.Host,
		Transport:    &tcp,
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

func (s *rtspSource) play(c *gortsplib.Client, emit func(AccessUnit)) error {
	desc, _, err := c.Describe(s.u)
	if err != nil {
		return fmt.Errorf("source: rtsp describe: %w", err)
	}
	var forma *format.H264
	medi := desc.FindFormat(&forma)
	if medi == nil {
		return fmt.Errorf("%w: no H.264 track in the session", ErrNoVideo)
	}
	dec, err := forma.CreateDecoder()
	if err != nil {
		return fmt.Errorf("source: rtp decoder: %w", err)
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return fmt.Errorf("source: rtsp setup: %w", err)
	}

	var params [][]byte
	if sps, pps := forma.SafeParams(); sps != nil && pps != nil {
		params = [][]byte{sps, pps}
	}
	clock := int64(forma.ClockRate())
	t := wallClock{}
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		pts, ok := c.PacketPTS2(medi, pkt)
		if !ok {
			return
		}
		nalus, err := dec.Decode(pkt)
		if err != nil {
			if !errors.Is(err, rtph264.ErrMorePacketsNeeded) && !errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) {
				s.opts.Log.Debug("rtp decode", "err", err)
			}
			return
		}
		at, d := t.at(time.Now(), pts, clock)
		emit(AccessUnit{
			Codec:      stillsv1.Codec_CODEC_H264,
			NALUs:      nalus,
			IsKeyframe: h264.IsRandomAccess(nalus),
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

// wallClock maps RTP presentation times to UTC: the receive time of the
// first access unit plus the PTS delta, re-anchored when it drifts more than
// maxClockSkew from the receive time.
type wallClock struct {
	started bool
	base    time.Time
	pts0    int64
}

// at returns the wall time and the PTS since the first access unit.
func (w *wallClock) at(now time.Time, pts, clockRate int64) (time.Time, time.Duration) {
	if !w.started {
		w.started, w.base, w.pts0 = true, now, pts
	}
	delta := pts - w.pts0
	d := time.Duration(delta/clockRate)*time.Second + time.Duration(delta%clockRate)*time.Second/time.Duration(clockRate)
	at := w.base.Add(d)
	if skew := now.Sub(at); skew > maxClockSkew || skew < -maxClockSkew {
		w.base = now.Add(-d)
		at = now
	}
	return at.UTC(), d
}
