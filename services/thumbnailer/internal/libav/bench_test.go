package libav

import (
	"testing"

	"github.com/stills-video/stills/services/thumbnailer/internal/testmedia"
)

// BenchmarkThumbnail1080p is the worker's hot path: decode one 1080p
// H.264 IDR, fit it into 320 px, encode the JPEG.
func BenchmarkThumbnail1080p(b *testing.B) {
	for _, skip := range []bool{false, true} {
		name := "loopfilter"
		if skip {
			name = "skiploopfilter"
		}
		b.Run(name, func(b *testing.B) {
			au := testmedia.Keyframe(b, testmedia.Spec{Width: 1920, Height: 1080})
			d := mustDecoder(b, H264, DecoderOptions{SkipLoopFilter: skip})
			b.SetBytes(int64(len(au)))
			b.ResetTimer()
			for b.Loop() {
				f, err := d.Decode(au)
				if err != nil {
					b.Fatal(err)
				}
				w, h := Fit(f.Width(), f.Height(), 1, 1, 320, 0)
				if _, err := EncodeJPEG(f, w, h, 80); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode1080p is decoding alone, reusing the codec context
// (flush) or opening a fresh one per access unit (reopen).
func BenchmarkDecode1080p(b *testing.B) {
	au := testmedia.Keyframe(b, testmedia.Spec{Width: 1920, Height: 1080})
	for _, reopen := range []bool{false, true} {
		name := "flush"
		if reopen {
			name = "reopen"
		}
		b.Run(name, func(b *testing.B) {
			d := mustDecoder(b, H264, DecoderOptions{})
			for b.Loop() {
				if reopen {
					d.closeContext()
				}
				if _, err := d.Decode(au); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeJPEG320 is scale + MJPEG from a decoded 1080p picture.
func BenchmarkEncodeJPEG320(b *testing.B) {
	au := testmedia.Keyframe(b, testmedia.Spec{Width: 1920, Height: 1080})
	d := mustDecoder(b, H264, DecoderOptions{})
	f, err := d.Decode(au)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := EncodeJPEG(f, 320, 180, 80); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncoder320 is BenchmarkEncodeJPEG320 with the swscale and
// MJPEG contexts kept between calls (what a worker does).
func BenchmarkEncoder320(b *testing.B) {
	au := testmedia.Keyframe(b, testmedia.Spec{Width: 1920, Height: 1080})
	d := mustDecoder(b, H264, DecoderOptions{})
	f, err := d.Decode(au)
	if err != nil {
		b.Fatal(err)
	}
	e := NewEncoder()
	defer e.Close()
	for b.Loop() {
		if _, err := e.Encode(f, 320, 180, 80); err != nil {
			b.Fatal(err)
		}
	}
}
