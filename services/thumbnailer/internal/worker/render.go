package worker

import (
	"fmt"
	"time"

	"github.com/stills-video/stills/pkg/layout"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
	"github.com/stills-video/stills/services/thumbnailer/internal/libav"
)

// JPEG is one rendered JPEG and where it goes.
type JPEG struct {
	Key           string
	Data          []byte
	Width, Height int // actual pixels, after Fit
}

// Rendered is what Render made: the JPEGs and the decoded picture's size.
type Rendered struct {
	JPEGs         []JPEG
	Width, Height int // decoded picture, in samples
}

// Renderer owns the libav state of one goroutine: a decoder per codec
// (opened on first use, reused with drain + flush) and an Encoder with
// its cached swscale and MJPEG contexts. Not safe for concurrent use.
type Renderer struct {
	opts libav.DecoderOptions
	decs map[libav.Codec]*libav.Decoder
	enc  *libav.Encoder
}

// NewRenderer makes a Renderer; libav state is allocated on first use.
func NewRenderer(skipLoopFilter bool) *Renderer {
	return &Renderer{
		opts: libav.DecoderOptions{SkipLoopFilter: skipLoopFilter},
		decs: map[libav.Codec]*libav.Decoder{},
		enc:  libav.NewEncoder(),
	}
}

// Close frees the decoders and the encoder.
func (r *Renderer) Close() {
	for c, d := range r.decs {
		d.Close()
		delete(r.decs, c)
	}
	r.enc.Close()
}

func (r *Renderer) decoder(c libav.Codec) (*libav.Decoder, error) {
	if d, ok := r.decs[c]; ok {
		return d, nil
	}
	d, err := libav.NewDecoder(c, r.opts)
	if err != nil {
		return nil, err
	}
	r.decs[c] = d
	return d, nil
}

// Render decodes au and encodes a JPEG per size of st (the source display
// size when st has none), starting at size index from (1 when the
// canonical JPEG came from elsewhere: a camera snapshot). Size 0 is the
// canonical layout.JPEG key; every other one is layout.SizedJPEG named
// after the configured box (for example SS-320x0.jpg for {width: 320}),
// so a client can ask for the size it configured; Width/Height carry the
// fitted size. sarNum/sarDen are used when the bitstream declares no
// sample aspect ratio. Errors wrap libav.ErrUndecodable when the keyframe
// is bad.
func (r *Renderer) Render(codec stillsv1.Codec, au []byte, sarNum, sarDen int, stream string, t time.Time, st *stillsv1.ThumbnailSettings, from int) (Rendered, error) {
	c, err := decoderCodec(codec)
	if err != nil {
		return Rendered{}, err
	}
	dec, err := r.decoder(c)
	if err != nil {
		return Rendered{}, err
	}
	f, err := dec.Decode(au)
	if err != nil {
		return Rendered{}, err
	}
	if n, d := f.SampleAspectRatio(); n > 0 && d > 0 {
		sarNum, sarDen = n, d
	}
	sizes := st.GetSizes()
	if len(sizes) == 0 {
		sizes = []*stillsv1.Size{{}}
	}
	out := Rendered{Width: f.Width(), Height: f.Height()}
	for i := from; i < len(sizes); i++ {
		bw, bh := int(sizes[i].GetWidth()), int(sizes[i].GetHeight())
		w, h := libav.Fit(f.Width(), f.Height(), sarNum, sarDen, bw, bh)
		data, err := r.enc.Encode(f, w, h, int(st.GetQuality()))
		if err != nil {
			return Rendered{}, fmt.Errorf("worker: jpeg %dx%d: %w", w, h, err)
		}
		key := layout.JPEG(stream, t)
		if i > 0 {
			key = layout.SizedJPEG(stream, t, bw, bh)
		}
		out.JPEGs = append(out.JPEGs, JPEG{Key: key, Data: data, Width: w, Height: h})
	}
	return out, nil
}
