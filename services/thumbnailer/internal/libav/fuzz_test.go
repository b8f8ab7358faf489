package libav

import (
	"errors"
	"testing"
)

// FuzzDecode feeds mutated access units to one reused decoder per codec:
// it must return a picture or ErrUndecodable, never crash, and keep
// working. Seeds are real keyframes in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add(byte(1), []byte{0, 0, 0, 1, 0x67, 0x42, 0, 0x1e})
	decoders := map[Codec]*Decoder{}
	for _, c := range []Codec{H264, H265} {
		d, err := NewDecoder(c, DecoderOptions{})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(d.Close)
		decoders[c] = d
	}
	f.Fuzz(func(t *testing.T, codec byte, au []byte) {
		d := decoders[Codec(codec%2+1)]
		fr, err := d.Decode(au)
		if err != nil {
			if !errors.Is(err, ErrUndecodable) {
				t.Fatalf("error not ErrUndecodable: %v", err)
			}
			return
		}
		if fr.Width() <= 0 || fr.Height() <= 0 {
			t.Fatalf("picture %dx%d", fr.Width(), fr.Height())
		}
		w, h := Fit(fr.Width(), fr.Height(), 1, 1, 64, 64)
		if _, err := EncodeJPEG(fr, w, h, 50); err != nil {
			t.Fatalf("encode decoded picture: %v", err)
		}
	})
}
