package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stills-video/stills/pkg/config"
)

type statusRange struct {
	From     int64 `json:"from"`
	Duration int64 `json:"duration"`
}

type availability struct {
	From *int64 `json:"from,omitempty"`
	To   *int64 `json:"to,omitempty"`
}

// recordingStatus answers recording_status.json: what is available without
// from/to, else the ranges (and, when request= names them, the thumbnail
// times) within [from, to].
func (a *api) recordingStatus(w http.ResponseWriter, r *http.Request, st config.Stream) error {
	q := r.URL.Query()
	if !q.Has("from") && !q.Has("to") {
		var av availability
		first, last, ok, err := a.Index.Bounds(st.Name)
		if err != nil {
			return err
		}
		if ok {
			f, l := first/1000, last/1000
			av = availability{From: &f, To: &l}
		}
		writeJSON(w, http.StatusOK, map[string]availability{st.Name: av})
		return nil
	}
	now := a.Now().Unix()
	from, err := parseUnixParam(q.Get("from"), 0, now)
	if err != nil {
		return err
	}
	to, err := parseUnixParam(q.Get("to"), now, now)
	if err != nil {
		return err
	}
	if from > to {
		return fmt.Errorf("%w: from %d is after to %d", ErrBadRequest, from, to)
	}
	buf := statusPool.Get().(*statusBuf)
	defer statusPool.Put(buf)
	buf.times = a.Index.AppendRange(buf.times[:0], st.Name, from*1000, to*1000+999)
	buf.ranges = ranges(buf.ranges[:0], buf.times, st.SegmentDuration.D())
	brief := wantsBrief(q.Get("request"))
	buf.out = appendStatus(buf.out[:0], st.Name, buf.ranges, buf.times, brief)
	writeBody(w, http.StatusOK, buf.out)
	if cap(buf.out) > maxPooledStatus {
		*buf = statusBuf{} // a window of months: do not keep its buffers
	}
	return nil
}

// statusBuf holds one recording_status.json request's scratch space; a
// one-hour window reuses it without allocating.
type statusBuf struct {
	times  []int64
	ranges []statusRange
	out    []byte
}

// maxPooledStatus is the largest body whose buffers go back to the pool.
const maxPooledStatus = 1 << 20

var statusPool = sync.Pool{New: func() any { return &statusBuf{} }}

// wantsBrief reports whether request= (a comma-separated list) names
// brief_thumbnails.
func wantsBrief(request string) bool {
	for request != "" {
		var item string
		item, request, _ = strings.Cut(request, ",")
		if item == "brief_thumbnails" {
			return true
		}
	}
	return false
}

// appendStatus encodes [{"stream","ranges","brief_thumbnails"}] as
// encoding/json would encode a statusItem, without reflection or a copy of
// the times (ms; brief_thumbnails lists their seconds, when brief).
func appendStatus(b []byte, stream string, rs []statusRange, times []int64, brief bool) []byte {
	b = append(b, `[{"stream":`...)
	b = appendJSONString(b, stream)
	b = append(b, `,"ranges":[`...)
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"from":`...)
		b = strconv.AppendInt(b, r.From, 10)
		b = append(b, `,"duration":`...)
		b = strconv.AppendInt(b, r.Duration, 10)
		b = append(b, '}')
	}
	b = append(b, ']')
	if brief && len(times) > 0 {
		b = append(b, `,"brief_thumbnails":`...)
		b = appendSeconds(b, times)
	}
	return append(b, "}]\n"...)
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendSeconds appends the seconds of times (ms, ≥ 0, ascending) as a
// JSON array. Neighbours share all but their last digits, so the digits
// above the last four are formatted once per 10,000 s: a third of the cost
// of strconv.AppendInt for each.
func appendSeconds(b []byte, times []int64) []byte {
	var (
		hiBuf  [20]byte
		hi     []byte
		lastHi = int64(-1)
	)
	b = slices.Grow(b, 2+11*len(times)) // Unix seconds have 10 digits until 2286
	b = append(b, '[')
	for i, ms := range times {
		if i > 0 {
			b = append(b, ',')
		}
		v := ms / 1000
		if v < 10000 {
			b = strconv.AppendInt(b, v, 10)
			continue
		}
		h, lo := v/10000, v%10000
		if h != lastHi {
			hi, lastHi = strconv.AppendInt(hiBuf[:0], h, 10), h
		}
		b = append(b, hi...)
		p, q := 2*(lo/100), 2*(lo%100)
		b = append(b, digitPairs[p], digitPairs[p+1], digitPairs[q], digitPairs[q+1])
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string: stream names need no
// escaping; anything else goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// parseUnixParam parses a from/to value: Unix seconds or "now"; empty is def.
func parseUnixParam(s string, def, now int64) (int64, error) {
	switch s {
	case "":
		return def, nil
	case "now":
		return now, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > maxUnix {
		return 0, fmt.Errorf("%w: %q is not a Unix time or \"now\"", ErrBadRequest, s)
	}
	return n, nil
}

// ranges appends to out the merged thumbnail times (ms, ascending) whose
// gap is at most two segment durations; each range lasts until its last
// keyframe plus one segment.
func ranges(out []statusRange, times []int64, seg time.Duration) []statusRange {
	if seg <= 0 {
		seg = config.DefaultSegmentDuration
	}
	segMs := seg.Milliseconds()
	segSec := (segMs + 999) / 1000
	for i := 0; i < len(times); {
		j := i
		for j+1 < len(times) && times[j+1]-times[j] <= 2*segMs {
			j++
		}
		from := times[i] / 1000
		out = append(out, statusRange{From: from, Duration: times[j]/1000 - from + segSec})
		i = j + 1
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	writeBody(w, status, append(body, '\n'))
}

// writeBody writes a JSON body.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheNoCache)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
