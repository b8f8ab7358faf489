package libav

import (
	"errors"
	"fmt"

	"github.com/asticode/go-astiav"
)

// maxCached bounds each cache of an Encoder: a worker sees a handful of
// (source size, thumbnail size) pairs; past this many the cache is
// emptied rather than grown.
const maxCached = 16

// scaleKey identifies a swscale context: source size and format, target
// size (the target format is always yuvj420p).
type scaleKey struct {
	srcW, srcH int
	srcFmt     astiav.PixelFormat
	dstW, dstH int
}

// scaler is a swscale context and the yuvj420p frame it writes into.
type scaler struct {
	sws *astiav.SoftwareScaleContext
	dst *astiav.Frame
}

func (s *scaler) free() {
	s.sws.Free()
	s.dst.Free()
}

// Encoder scales decoded pictures and encodes them as JPEG. It keeps its
// swscale contexts (per source size/format and target size) and its
// MJPEG encoder contexts (per target size; the quality is set on each
// frame) between calls: building a bicubic swscale context for a 1080p
// source costs more than the scaling itself (BenchmarkEncodeJPEG320).
// Not safe for concurrent use: one per goroutine, like a Decoder.
type Encoder struct {
	scalers map[scaleKey]*scaler
	mjpeg   map[[2]int]*astiav.CodecContext
	pkt     *astiav.Packet
	pts     int64
}

// NewEncoder returns an empty Encoder; contexts are made on first use.
func NewEncoder() *Encoder {
	return &Encoder{scalers: map[scaleKey]*scaler{}, mjpeg: map[[2]int]*astiav.CodecContext{}}
}

// Close frees every context the Encoder holds. It is safe to call twice.
func (e *Encoder) Close() {
	e.dropScalers()
	e.dropEncoders()
	if e.pkt != nil {
		e.pkt.Free()
		e.pkt = nil
	}
}

func (e *Encoder) dropScalers() {
	for k, s := range e.scalers {
		s.free()
		delete(e.scalers, k)
	}
}

func (e *Encoder) dropEncoders() {
	for k, cc := range e.mjpeg {
		cc.Free()
		delete(e.mjpeg, k)
	}
}

// Encode scales f to width×height (one swscale pass straight to
// full-range yuvj420p, see scaleFlag) and encodes it with libav's MJPEG encoder
// at quality (see QScale). The picture never passes through Go memory;
// only the finished JPEG is copied out.
func (e *Encoder) Encode(f *Frame, width, height, quality int) ([]byte, error) {
	if f == nil || f.f == nil {
		return nil, errors.New("libav: encode: no frame")
	}
	if width <= 0 || height <= 0 || width%2 != 0 || height%2 != 0 {
		return nil, fmt.Errorf("%w: %dx%d (positive and even)", ErrInvalidSize, width, height)
	}
	sc, err := e.scaler(f.f, width, height)
	if err != nil {
		return nil, err
	}
	// The encoder dropped its reference after the previous packet; this
	// only allocates if something still holds the buffer.
	if err := makeWritable(sc.dst); err != nil {
		return nil, fmt.Errorf("libav: frame writable: %w", err)
	}
	if err := sc.sws.ScaleFrame(f.f, sc.dst); err != nil {
		return nil, fmt.Errorf("libav: scale: %w", err)
	}
	sc.dst.SetColorRange(astiav.ColorRangeJpeg)
	sc.dst.SetSampleAspectRatio(astiav.NewRational(1, 1))
	e.pts++ // encoders want increasing timestamps
	sc.dst.SetPts(e.pts)
	setQScale(sc.dst, QScale(quality))
	cc, err := e.encoder(width, height)
	if err != nil {
		return nil, err
	}
	return e.encode(cc, sc.dst)
}

func (e *Encoder) scaler(src *astiav.Frame, width, height int) (*scaler, error) {
	k := scaleKey{src.Width(), src.Height(), sourceFormat(src), width, height}
	if s, ok := e.scalers[k]; ok {
		return s, nil
	}
	if len(e.scalers) >= maxCached {
		e.dropScalers()
	}
	sws, err := astiav.CreateSoftwareScaleContext(k.srcW, k.srcH, k.srcFmt,
		width, height, astiav.PixelFormatYuvj420P, astiav.NewSoftwareScaleContextFlags(scaleFlag(k)))
	if err != nil {
		return nil, fmt.Errorf("libav: swscale %dx%d %s -> %dx%d: %w", k.srcW, k.srcH, k.srcFmt, width, height, err)
	}
	dst := astiav.AllocFrame()
	if dst == nil {
		sws.Free()
		return nil, errors.New("libav: alloc frame: out of memory")
	}
	dst.SetWidth(width)
	dst.SetHeight(height)
	dst.SetPixelFormat(astiav.PixelFormatYuvj420P)
	if err := dst.AllocBuffer(0); err != nil {
		sws.Free()
		dst.Free()
		return nil, fmt.Errorf("libav: frame buffer: %w", err)
	}
	s := &scaler{sws: sws, dst: dst}
	e.scalers[k] = s
	return s, nil
}

// scaleFlag picks the swscale filter: area averaging when the picture
// shrinks on both sides (the right filter for a thumbnail, and 1.5× faster
// than bicubic from 1080p to 320 px: BenchmarkEncoder320), bicubic when a
// side grows (an anamorphic picture stretched to its display width).
func scaleFlag(k scaleKey) astiav.SoftwareScaleContextFlag {
	if k.dstW <= k.srcW && k.dstH <= k.srcH {
		return astiav.SoftwareScaleContextFlagArea
	}
	return astiav.SoftwareScaleContextFlagBicubic
}

// encoder returns the opened MJPEG context for width×height.
func (e *Encoder) encoder(width, height int) (*astiav.CodecContext, error) {
	k := [2]int{width, height}
	if cc, ok := e.mjpeg[k]; ok {
		return cc, nil
	}
	if len(e.mjpeg) >= maxCached {
		e.dropEncoders()
	}
	codec := astiav.FindEncoder(astiav.CodecIDMjpeg)
	if codec == nil {
		return nil, errors.New("libav: no mjpeg encoder")
	}
	cc := astiav.AllocCodecContext(codec)
	if cc == nil {
		return nil, errors.New("libav: alloc mjpeg context: out of memory")
	}
	cc.SetWidth(width)
	cc.SetHeight(height)
	cc.SetPixelFormat(astiav.PixelFormatYuvj420P)
	cc.SetTimeBase(astiav.NewRational(1, 25))
	cc.SetSampleAspectRatio(astiav.NewRational(1, 1))
	cc.SetFlags(astiav.NewCodecContextFlags(astiav.CodecContextFlagQscale))
	cc.SetThreadCount(1)
	if err := cc.Open(codec, nil); err != nil {
		cc.Free()
		return nil, fmt.Errorf("libav: open mjpeg encoder: %w", err)
	}
	e.mjpeg[k] = cc
	return cc, nil
}

// encode sends one frame to an intra-only encoder and takes the packet it
// returns at once (MJPEG has no delay, so the context is ready for the
// next frame without a flush). A failure drops the context.
func (e *Encoder) encode(cc *astiav.CodecContext, frame *astiav.Frame) ([]byte, error) {
	if e.pkt == nil {
		if e.pkt = astiav.AllocPacket(); e.pkt == nil {
			return nil, errors.New("libav: alloc packet: out of memory")
		}
	}
	fail := func(what string, err error) ([]byte, error) {
		e.pkt.Unref()
		e.dropEncoders()
		return nil, fmt.Errorf("libav: mjpeg %s: %w", what, err)
	}
	if err := cc.SendFrame(frame); err != nil {
		return fail("send", err)
	}
	if err := cc.ReceivePacket(e.pkt); err != nil {
		return fail("receive", err)
	}
	out := append([]byte(nil), e.pkt.Data()...)
	e.pkt.Unref()
	return out, nil
}
