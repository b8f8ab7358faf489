package api

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/stills-video/stills/services/gateway/internal/index"
)

// size is a requested box; 0 = any.
type size struct{ w, h uint32 }

// maxSide bounds ?width= and ?height= (the config's limit).
const maxSide = 8192

func parseSize(q url.Values) (size, error) {
	var s size
	for _, p := range []struct {
		name string
		dst  *uint32
	}{{"width", &s.w}, {"height", &s.h}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n < 1 || n > maxSide {
			return size{}, fmt.Errorf("%w: %s must be between 1 and %d", ErrBadRequest, p.name, maxSide)
		}
		*p.dst = uint32(n)
	}
	return s, nil
}

// pickJPEG chooses the JPEG of e for the requested box: the smallest
// stored one that covers it, else the largest; the canonical one when
// nothing is asked for or no size is known.
func pickJPEG(want size, e index.Entry) (index.Object, bool) {
	canon, ok := e.JPEG()
	if !ok || want == (size{}) {
		return canon, ok
	}
	var best, largest index.Object
	for _, j := range e.JPEGs {
		if j.Key == "" || j.Width == 0 || j.Height == 0 {
			continue
		}
		area := uint64(j.Width) * uint64(j.Height)
		if largest.Key == "" || area > uint64(largest.Width)*uint64(largest.Height) {
			largest = j
		}
		covers := (want.w == 0 || j.Width >= want.w) && (want.h == 0 || j.Height >= want.h)
		if covers && (best.Key == "" || area < uint64(best.Width)*uint64(best.Height)) {
			best = j
		}
	}
	switch {
	case best.Key != "":
		return best, true
	case largest.Key != "":
		return largest, true
	}
	return canon, true
}
