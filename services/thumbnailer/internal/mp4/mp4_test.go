package mp4

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer/internal/testmedia"
)

// probe returns "codec,width,height,nb_read_frames" of the file's video
// stream, as ffprobe counts them by decoding.
func probe(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.mp4")
	testutil.Must(t, os.WriteFile(p, data, 0o644))
	out, err := exec.Command(testutil.Tool(t, "ffprobe"), "-v", "error", "-count_frames",
		"-select_streams", "v:0", "-show_entries", "stream=codec_name,codec_tag_string,width,height,nb_read_frames",
		"-of", "csv=p=0", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// withoutParameterSets drops SPS/PPS/VPS from an Annex-B access unit and
// returns them separately, as ingest may deliver them.
func withoutParameterSets(t *testing.T, au []byte, hevc bool) ([]byte, [][]byte) {
	t.Helper()
	var nalus h264.AnnexB
	testutil.Must(t, nalus.Unmarshal(au))
	var rest h264.AnnexB
	var ps [][]byte
	for _, n := range nalus {
		typ := int(n[0] & 0x1f)
		isPS := typ == h264SPS || typ == h264PPS
		if hevc {
			typ = int(n[0]>>1) & 0x3f
			isPS = typ >= h265VPS && typ <= h265PPS
		}
		if isPS {
			ps = append(ps, n)
		} else {
			rest = append(rest, n)
		}
	}
	b, err := rest.Marshal()
	testutil.Must(t, err)
	return b, ps
}

func TestMux(t *testing.T) {
	h264AU := testmedia.Keyframe(t, testmedia.Spec{Width: 640, Height: 360})
	h265AU := testmedia.Keyframe(t, testmedia.Spec{Codec: "h265", Width: 640, Height: 360})
	h264Bare, h264PS := withoutParameterSets(t, h264AU, false)
	h265Bare, h265PS := withoutParameterSets(t, h265AU, true)
	tests := []struct {
		name  string
		codec stillsv1.Codec
		au    []byte
		ps    [][]byte
		want  string
	}{
		{"h264 in-band parameter sets", stillsv1.Codec_CODEC_H264, h264AU, nil, "h264,avc1,640,360,1"},
		{"h264 parameter sets from the event", stillsv1.Codec_CODEC_H264, h264Bare, h264PS, "h264,avc1,640,360,1"},
		{"h265 in-band parameter sets", stillsv1.Codec_CODEC_H265, h265AU, nil, "hevc,hvc1,640,360,1"},
		{"h265 parameter sets from the event", stillsv1.Codec_CODEC_H265, h265Bare, h265PS, "hevc,hvc1,640,360,1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Mux(tc.codec, tc.au, tc.ps)
			if err != nil {
				t.Fatal(err)
			}
			if got := probe(t, b); got != tc.want {
				t.Fatalf("ffprobe says %q, want %q", got, tc.want)
			}
			again, err := Mux(tc.codec, tc.au, tc.ps)
			testutil.Must(t, err)
			if !bytes.Equal(b, again) {
				t.Fatal("muxing the same keyframe twice gave different bytes")
			}
		})
	}
}

func TestMuxInvalid(t *testing.T) {
	h264AU := testmedia.Keyframe(t, testmedia.Spec{Width: 640, Height: 360})
	bare, ps := withoutParameterSets(t, h264AU, false)
	tests := []struct {
		name  string
		codec stillsv1.Codec
		au    []byte
		ps    [][]byte
	}{
		{"empty", stillsv1.Codec_CODEC_H264, nil, nil},
		{"no start code", stillsv1.Codec_CODEC_H264, []byte{1, 2, 3, 4}, nil},
		{"unknown codec", stillsv1.Codec_CODEC_UNSPECIFIED, h264AU, nil},
		{"no parameter sets", stillsv1.Codec_CODEC_H264, bare, nil},
		{"only parameter sets", stillsv1.Codec_CODEC_H264, []byte{0, 0, 0, 1, 0x09, 0xf0}, ps},
		{"garbage SPS", stillsv1.Codec_CODEC_H264, bare, [][]byte{{0x67, 0xff}, ps[1]}},
		{"h264 bytes as h265", stillsv1.Codec_CODEC_H265, h264AU, nil},
		{"h265 one-byte NAL unit", stillsv1.Codec_CODEC_H265, []byte{0, 0, 1, 0x40}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Mux(tc.codec, tc.au, tc.ps); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func BenchmarkMux1080p(b *testing.B) {
	au := testmedia.Keyframe(b, testmedia.Spec{Width: 1920, Height: 1080})
	for b.Loop() {
		if _, err := Mux(stillsv1.Codec_CODEC_H264, au, nil); err != nil {
			b.Fatal(err)
		}
	}
}
