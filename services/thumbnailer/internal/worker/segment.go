package worker

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stills-video/stills/pkg/layout"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer/internal/libav"
	"github.com/stills-video/stills/services/thumbnailer/internal/snapshot"
)

// Sources of a ThumbnailStored record's JPEGs.
const (
	SourceDecode   = "decode"
	SourceSnapshot = "snapshot"
	SourceRender   = "render"
)

// jpegs makes the JPEGs an event asks for, and says where the canonical
// one came from. In camera-URL mode the camera's snapshot, as sent, is the
// canonical JPEG and only the extra sizes are decoded from the keyframe;
// when the fetch fails (counted by reason) the keyframe is decoded for
// every size instead.
func (w *Worker) jpegs(ctx context.Context, ev *stillsv1.SegmentStarted, t time.Time) ([]JPEG, string, *failure) {
	st := ev.GetSettings()
	if !wantsJPEG(st) {
		return nil, "", nil
	}
	var out []JPEG
	source, from := SourceDecode, 0
	if u := st.GetSnapshotUrl(); u != "" && w.cfg.Snapshot != nil {
		img, err := w.cfg.Snapshot.Fetch(ctx, u)
		if err == nil {
			out = append(out, JPEG{Key: layout.JPEG(ev.GetStream(), t), Data: img.Data, Width: img.Width, Height: img.Height})
			source, from = SourceSnapshot, 1
			w.cfg.Metrics.snapshots.Inc()
		} else {
			w.cfg.Metrics.snapshotFailures.WithLabelValues(snapshot.Reason(err)).Inc()
			w.log.Warn("snapshot failed, decoding the keyframe", "stream", ev.GetStream(), "err", err)
		}
	}
	if from > 0 && len(st.GetSizes()) <= from {
		return out, source, nil
	}
	res, err := w.r.Render(ev.GetCodec(), WithParameterSets(ev.GetParameterSets(), ev.GetKeyframe()), int(ev.GetSarNum()), int(ev.GetSarDen()), ev.GetStream(), t, st, from)
	if errors.Is(err, libav.ErrUndecodable) {
		return nil, "", &failure{reason: ReasonUndecodable, err: err}
	}
	if err != nil {
		return nil, "", &failure{kind: KindDecode, err: err}
	}
	return append(out, res.JPEGs...), source, nil
}

// keepAlive tells the server every ProgressEvery that msg is still being
// worked on, so a slow store or a slow camera does not get the event
// redelivered to another worker meanwhile. The returned stop must be
// called before msg is settled.
func (w *Worker) keepAlive(msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(w.cfg.ProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if err := msg.InProgress(); err != nil {
					w.log.Warn("in progress", "subject", msg.Subject(), "err", err)
				}
				w.cfg.Metrics.progress.Add(1)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// WithParameterSets returns au with the out-of-band parameter sets put in
// front as Annex-B NAL units (the decoder reads them only in-band); au
// itself when there are none. A repeated SPS/PPS is harmless to libav.
func WithParameterSets(paramSets [][]byte, au []byte) []byte {
	n := len(au)
	for _, p := range paramSets {
		n += 4 + len(p)
	}
	if n == len(au) {
		return au
	}
	out := make([]byte, 0, n)
	for _, p := range paramSets {
		if len(p) > 0 {
			out = append(out, 0, 0, 0, 1)
			out = append(out, p...)
		}
	}
	return append(out, au...)
}
