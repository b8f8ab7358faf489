package libav

import (
	"errors"
	"testing"
)

// FuzzDecode feeds mutated access units to one reused decoder per codec.
// The access unit is params + slices cut to cut bytes (when cut is
// shorter), so the fuzzer mutates the parameter sets (SPS/PPS/VPS) and the
// picture separately and truncates anywhere. Decode must return a picture
// or ErrUndecodable and never crash; the decoders are reused across
// inputs, so a failure that poisons one shows up on later inputs
// (TestDecodeUndecodable checks recovery explicitly). Seeds in testdata/fuzz/FuzzDecode are real 64×48
// keyframes split after their parameter sets; make test runs them.
func FuzzDecode(f *testing.F) {
	f.Add(byte(0), []byte{0, 0, 0, 1, 0x67, 0x42, 0, 0x1e}, []byte{0, 0, 0, 1, 0x65, 0x88}, uint32(0))
	decoders := map[Codec]*Decoder{}
	for _, c := range []Codec{H264, H265} {
		d, err := NewDecoder(c, DecoderOptions{})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(d.Close)
		decoders[c] = d
	}
	f.Fuzz(func(t *testing.T, codec byte, params, slices []byte, cut uint32) {
		d := decoders[Codec(codec%2+1)]
		au := append(append([]byte(nil), params...), slices...)
		if cut > 0 && int(cut) < len(au) {
			au = au[:cut]
		}
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
