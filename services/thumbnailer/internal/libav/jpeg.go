package libav

import "github.com/asticode/go-astiav"

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

// EncodeJPEG scales f to width×height and encodes it at quality with a
// throw-away Encoder: everything it allocates is freed before it returns.
// Workers keep an Encoder instead.
func EncodeJPEG(f *Frame, width, height, quality int) ([]byte, error) {
	e := NewEncoder()
	defer e.Close()
	return e.Encode(f, width, height, quality)
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
