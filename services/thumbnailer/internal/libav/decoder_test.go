package libav

import (
	"bytes"
	"errors"
	"image/jpeg"
	"testing"

	"github.com/stills-video/stills/services/thumbnailer/internal/testmedia"
)

func mustDecoder(t testing.TB, c Codec, opts DecoderOptions) *Decoder {
	t.Helper()
	d, err := NewDecoder(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name         string
		codec        Codec
		spec         testmedia.Spec
		opts         DecoderOptions
		wantW, wantH int
		wantSAR      [2]int
	}{
		{"h264 720p", H264, testmedia.Spec{}, DecoderOptions{}, 1280, 720, [2]int{1, 1}},
		{"h264 skip loop filter", H264, testmedia.Spec{}, DecoderOptions{SkipLoopFilter: true}, 1280, 720, [2]int{1, 1}},
		{"h264 odd size", H264, testmedia.Spec{Width: 642, Height: 362}, DecoderOptions{}, 642, 362, [2]int{1, 1}},
		{"h264 anamorphic", H264, testmedia.Spec{Width: 1440, Height: 1080, SAR: "4/3"}, DecoderOptions{}, 1440, 1080, [2]int{4, 3}},
		{"h265 720p", H265, testmedia.Spec{Codec: "h265"}, DecoderOptions{}, 1280, 720, [2]int{1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			au := testmedia.Keyframe(t, tc.spec)
			d := mustDecoder(t, tc.codec, tc.opts)
			// Twice: the decoder must be reusable after the drain.
			for i := range 2 {
				f, err := d.Decode(au)
				if err != nil {
					t.Fatalf("decode %d: %v", i, err)
				}
				if f.Width() != tc.wantW || f.Height() != tc.wantH {
					t.Fatalf("decode %d: %dx%d, want %dx%d", i, f.Width(), f.Height(), tc.wantW, tc.wantH)
				}
				if n, d := f.SampleAspectRatio(); n != tc.wantSAR[0] || d != tc.wantSAR[1] {
					t.Fatalf("sar %d:%d, want %d:%d", n, d, tc.wantSAR[0], tc.wantSAR[1])
				}
			}
		})
	}
}

func TestDecodeChangesSize(t *testing.T) {
	small := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	big := testmedia.Keyframe(t, testmedia.Spec{Width: 1280, Height: 720})
	d := mustDecoder(t, H264, DecoderOptions{})
	for i, au := range [][]byte{small, big, small} {
		f, err := d.Decode(au)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{320, 1280, 320}[i]; f.Width() != want {
			t.Fatalf("decode %d: width %d, want %d", i, f.Width(), want)
		}
	}
}

func corrupt(au []byte) []byte {
	b := bytes.Clone(au)
	// Scramble the middle of the slice data, keeping the parameter sets.
	for i := len(b) / 3; i < len(b)*2/3; i++ {
		b[i] ^= byte(i*131 + 7)
	}
	return b
}

func TestDecodeUndecodable(t *testing.T) {
	h264 := testmedia.Keyframe(t, testmedia.Spec{})
	h265 := testmedia.Keyframe(t, testmedia.Spec{Codec: "h265"})
	tests := []struct {
		name  string
		codec Codec
		au    []byte
	}{
		{"empty", H264, nil},
		{"garbage", H264, bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 1000)},
		{"truncated h264", H264, h264[:len(h264)/2]},
		{"corrupt h264", H264, corrupt(h264)},
		{"parameter sets only", H264, h264[:40]},
		{"truncated h265", H265, h265[:len(h265)/2]},
		{"corrupt h265", H265, corrupt(h265)},
		{"h265 bytes to h264 decoder", H264, h265},
	}
	d264 := mustDecoder(t, H264, DecoderOptions{})
	d265 := mustDecoder(t, H265, DecoderOptions{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := d264
			if tc.codec == H265 {
				d = d265
			}
			if f, err := d.Decode(tc.au); !errors.Is(err, ErrUndecodable) {
				t.Fatalf("got frame %v err %v, want ErrUndecodable", f != nil, err)
			}
			// The same decoder still decodes a good access unit afterwards.
			good := h264
			if tc.codec == H265 {
				good = h265
			}
			if _, err := d.Decode(good); err != nil {
				t.Fatalf("decode after failure: %v", err)
			}
		})
	}
}

func TestDecoderErrors(t *testing.T) {
	if _, err := NewDecoder(Codec(99), DecoderOptions{}); !errors.Is(err, ErrUnsupportedCodec) {
		t.Fatalf("unsupported codec: %v", err)
	}
	d, err := NewDecoder(H264, DecoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d.Close()
	if _, err := d.Decode([]byte{0, 0, 1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("decode after close: %v", err)
	}
}

func TestEncodeJPEG(t *testing.T) {
	tests := []struct {
		name         string
		spec         testmedia.Spec
		codec        Codec
		boxW, boxH   int
		wantW, wantH int
	}{
		{"source size", testmedia.Spec{}, H264, 0, 0, 1280, 720},
		{"320 wide", testmedia.Spec{}, H264, 320, 0, 320, 180},
		{"anamorphic to display size", testmedia.Spec{Width: 1440, Height: 1080, SAR: "4/3"}, H264, 640, 640, 640, 360},
		{"h265 160x90", testmedia.Spec{Codec: "h265"}, H265, 160, 90, 160, 90},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustDecoder(t, tc.codec, DecoderOptions{})
			f, err := d.Decode(testmedia.Keyframe(t, tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			sn, sd := f.SampleAspectRatio()
			w, h := Fit(f.Width(), f.Height(), sn, sd, tc.boxW, tc.boxH)
			if w != tc.wantW || h != tc.wantH {
				t.Fatalf("fit %dx%d, want %dx%d", w, h, tc.wantW, tc.wantH)
			}
			b, err := EncodeJPEG(f, w, h, 80)
			if err != nil {
				t.Fatal(err)
			}
			img, err := jpeg.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("image/jpeg: %v", err)
			}
			if r := img.Bounds(); r.Dx() != w || r.Dy() != h {
				t.Fatalf("jpeg is %v, want %dx%d", r, w, h)
			}
		})
	}
}

// The testsrc pattern has a white-ish top-left bar and black areas: a full
// range JPEG must reach near 0 and near 255 (a limited-range mistake
// leaves 16..235).
func TestEncodeJPEGFullRange(t *testing.T) {
	d := mustDecoder(t, H264, DecoderOptions{})
	f, err := d.Decode(testmedia.Keyframe(t, testmedia.Spec{Source: "smptebars", Width: 640, Height: 480}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeJPEG(f, 640, 480, 100)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := uint32(0xffff), uint32(0)
	bnd := img.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y += 4 {
		for x := bnd.Min.X; x < bnd.Max.X; x += 4 {
			r, g, bb, _ := img.At(x, y).RGBA()
			l := (r + g + bb) / 3 >> 8
			lo, hi = min(lo, l), max(hi, l)
		}
	}
	if lo > 8 || hi < 230 {
		t.Fatalf("luma range %d..%d, want about 0..235+ (full range)", lo, hi)
	}
}

func TestEncodeJPEGQualityMonotonic(t *testing.T) {
	d := mustDecoder(t, H264, DecoderOptions{})
	f, err := d.Decode(testmedia.Keyframe(t, testmedia.Spec{}))
	if err != nil {
		t.Fatal(err)
	}
	prev := 0
	for _, q := range []int{1, 20, 50, 80, 95, 100} {
		b, err := EncodeJPEG(f, 640, 360, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) <= prev {
			t.Fatalf("quality %d: %d bytes, not more than the previous %d", q, len(b), prev)
		}
		t.Logf("quality %3d qscale %2d: %6d bytes", q, QScale(q), len(b))
		prev = len(b)
	}
}

func TestEncodeJPEGErrors(t *testing.T) {
	if _, err := EncodeJPEG(nil, 320, 180, 80); err == nil {
		t.Fatal("nil frame accepted")
	}
	d := mustDecoder(t, H264, DecoderOptions{})
	f, err := d.Decode(testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240}))
	if err != nil {
		t.Fatal(err)
	}
	for _, sz := range [][2]int{{0, 180}, {320, -2}, {321, 180}} {
		if _, err := EncodeJPEG(f, sz[0], sz[1], 80); !errors.Is(err, ErrInvalidSize) {
			t.Fatalf("size %v: %v, want ErrInvalidSize", sz, err)
		}
	}
}

// A picture over MaxPixels (what a corrupt SPS can declare) is refused
// before libav allocates it, and the decoder still works afterwards.
func TestDecodeRefusesHugePicture(t *testing.T) {
	huge := testmedia.Keyframe(t, testmedia.Spec{Width: 8192, Height: 4352, Source: "color"})
	d, err := NewDecoder(H264, DecoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Decode(huge); !errors.Is(err, ErrUndecodable) {
		t.Fatalf("8192x4352 picture: %v, want ErrUndecodable", err)
	}
	if f, err := d.Decode(testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})); err != nil || f.Width() != 320 {
		t.Fatalf("decoder after a refused picture: %v", err)
	}
}
