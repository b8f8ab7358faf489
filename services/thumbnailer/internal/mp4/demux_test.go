package mp4

import (
	"errors"
	"testing"

	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer/internal/testmedia"
)

func TestDemuxRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		codec stillsv1.Codec
		spec  testmedia.Spec
	}{
		{"h264", stillsv1.Codec_CODEC_H264, testmedia.Spec{Width: 320, Height: 240}},
		{"h265", stillsv1.Codec_CODEC_H265, testmedia.Spec{Codec: "h265", Width: 320, Height: 240}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			au := testmedia.Keyframe(t, tc.spec)
			movie, err := Mux(tc.codec, au, nil)
			testutil.Must(t, err)
			codec, got, err := Demux(movie)
			testutil.Must(t, err)
			if codec != tc.codec {
				t.Fatalf("codec %v", codec)
			}
			// Muxing the demuxed access unit again gives the same file.
			again, err := Mux(codec, got, nil)
			testutil.Must(t, err)
			if string(again) != string(movie) {
				t.Fatal("mux(demux(mp4)) differs from the mp4")
			}
		})
	}
}

func TestDemuxInvalid(t *testing.T) {
	au := testmedia.Keyframe(t, testmedia.Spec{Width: 320, Height: 240})
	movie, err := Mux(stillsv1.Codec_CODEC_H264, au, nil)
	testutil.Must(t, err)
	for name, data := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not an mp4 at all, clearly"),
		"truncated": movie[:len(movie)/2],
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := Demux(data); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err %v, want ErrInvalid", err)
			}
		})
	}
}

// FuzzDemux: stored MP4s are read back by the render service; a damaged
// object must give ErrInvalid, never a panic.
func FuzzDemux(f *testing.F) {
	au := testmedia.Keyframe(f, testmedia.Spec{Width: 64, Height: 48})
	movie, err := Mux(stillsv1.Codec_CODEC_H264, au, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(movie)
	f.Add(movie[:len(movie)-7])
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, _, err := Demux(data); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error not ErrInvalid: %v", err)
		}
	})
}
