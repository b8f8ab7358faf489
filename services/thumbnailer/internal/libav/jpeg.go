package libav

import (
	"errors"
	"fmt"

	"github.com/asticode/go-astiav"
)

// Quality bounds and the qscale range of libav's MJPEG encoder.
const (
	MinQuality     = 1
	MaxQuality     = 100
	DefaultQuality = 80

	minQScale = 2  // best: avctx->qmin default
	maxQScale = 31 // worst: avctx->qmax default
)

// QScale maps a JPEG quality 1..100 (out of range values are clamped; 0
// means DefaultQuality) linearly onto libav's MJPEG quantiser scale 31..2:
//
//	qscale = 31 - round((quality-1) * 29 / 99)
//
// 100 → 2 (finest libav allows), 80 → 8, 50 → 17, 1 → 31. Libav multiplies
// the standard JPEG tables by qscale, so bytes fall monotonically as quality
// falls; the scale is libav's, not libjpeg's (libav's qscale 2 is roughly
// libjpeg quality 95).
func QScale(quality int) int {
	if quality == 0 {
		quality = DefaultQuality
	}
	quality = max(MinQuality, min(MaxQuality, quality))
	return maxQScale - ((quality-1)*(maxQScale-minQScale)+49)/99
}

// EncodeJPEG scales f to width×height (one swscale pass straight to
// full-range yuvj420p, bicubic) and encodes it with libav's MJPEG encoder
// at quality (see QScale). Everything it allocates is freed before it
// returns.
func EncodeJPEG(f *Frame, width, height, quality int) ([]byte, error) {
	if f == nil || f.f == nil {
		return nil, errors.New("libav: encode: no frame")
	}
	if width <= 0 || height <= 0 || width%2 != 0 || height%2 != 0 {
		return nil, fmt.Errorf("%w: %dx%d (positive and even)", ErrInvalidSize, width, height)
	}
	src := f.f
	sws, err := astiav.CreateSoftwareScaleContext(src.Width(), src.Height(), sourceFormat(src),
		width, height, astiav.PixelFormatYuvj420P,
		astiav.NewSoftwareScaleContextFlags(astiav.SoftwareScaleContextFlagBicubic))
	if err != nil {
		return nil, fmt.Errorf("libav: swscale %dx%d %s -> %dx%d: %w",
			src.Width(), src.Height(), src.PixelFormat(), width, height, err)
	}
	defer sws.Free()

	dst := astiav.AllocFrame()
	if dst == nil {
		return nil, errors.New("libav: alloc frame: out of memory")
	}
	defer dst.Free()
	dst.SetWidth(width)
	dst.SetHeight(height)
	dst.SetPixelFormat(astiav.PixelFormatYuvj420P)
	if err := dst.AllocBuffer(0); err != nil {
		return nil, fmt.Errorf("libav: frame buffer: %w", err)
	}
	if err := sws.ScaleFrame(src, dst); err != nil {
		return nil, fmt.Errorf("libav: scale: %w", err)
	}
	dst.SetColorRange(astiav.ColorRangeJpeg)
	dst.SetSampleAspectRatio(astiav.NewRational(1, 1))
	dst.SetPts(0)
	setQScale(dst, QScale(quality))
	return encodeMJPEG(dst)
}

// encodeMJPEG encodes one yuvj420p frame whose quality field is set.
func encodeMJPEG(frame *astiav.Frame) ([]byte, error) {
	codec := astiav.FindEncoder(astiav.CodecIDMjpeg)
	if codec == nil {
		return nil, errors.New("libav: no mjpeg encoder")
	}
	cc := astiav.AllocCodecContext(codec)
	if cc == nil {
		return nil, errors.New("libav: alloc mjpeg context: out of memory")
	}
	defer cc.Free()
	cc.SetWidth(frame.Width())
	cc.SetHeight(frame.Height())
	cc.SetPixelFormat(astiav.PixelFormatYuvj420P)
	cc.SetTimeBase(astiav.NewRational(1, 25))
	cc.SetSampleAspectRatio(astiav.NewRational(1, 1))
	cc.SetFlags(astiav.NewCodecContextFlags(astiav.CodecContextFlagQscale))
	cc.SetThreadCount(1)
	if err := cc.Open(codec, nil); err != nil {
		return nil, fmt.Errorf("libav: open mjpeg encoder: %w", err)
	}
	pkt := astiav.AllocPacket()
	if pkt == nil {
		return nil, errors.New("libav: alloc packet: out of memory")
	}
	defer pkt.Free()
	if err := cc.SendFrame(frame); err != nil {
		return nil, fmt.Errorf("libav: mjpeg send: %w", err)
	}
	if err := cc.ReceivePacket(pkt); err != nil {
		return nil, fmt.Errorf("libav: mjpeg receive: %w", err)
	}
	out := append([]byte(nil), pkt.Data()...)
	pkt.Unref()
	return out, nil
}

// sourceFormat is the frame's pixel format, switched to the matching
// full-range "J" format when the stream signals full range on a plain YUV
// format (swscale reads the range from the format, not from the frame).
func sourceFormat(f *astiav.Frame) astiav.PixelFormat {
	pf := f.PixelFormat()
	if f.ColorRange() != astiav.ColorRangeJpeg {
		return pf
	}
	switch pf {
	case astiav.PixelFormatYuv420P:
		return astiav.PixelFormatYuvj420P
	case astiav.PixelFormatYuv422P:
		return astiav.PixelFormatYuvj422P
	case astiav.PixelFormatYuv444P:
		return astiav.PixelFormatYuvj444P
	}
	return pf
}
