package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stills-video/stills/pkg/config"
)

type statusRange struct {
	From     int64 `json:"from"`
	Duration int64 `json:"duration"`
}

type statusItem struct {
	Stream          string        `json:"stream"`
	Ranges          []statusRange `json:"ranges"`
	BriefThumbnails []int64       `json:"brief_thumbnails,omitempty"`
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
	times, err := a.Index.Range(st.Name, from*1000, to*1000+999)
	if err != nil {
		return err
	}
	item := statusItem{Stream: st.Name, Ranges: ranges(times, st.SegmentDuration.D())}
	if slices.Contains(strings.Split(q.Get("request"), ","), "brief_thumbnails") {
		item.BriefThumbnails = make([]int64, len(times))
		for i, ms := range times {
			item.BriefThumbnails[i] = ms / 1000
		}
	}
	writeBody(w, http.StatusOK, appendStatus(make([]byte, 0, 64+12*len(item.BriefThumbnails)+32*len(item.Ranges)), item))
	return nil
}

// appendStatus encodes [item] as encoding/json would, without reflection
// (a one-hour brief_thumbnails holds ~1,200 numbers).
func appendStatus(b []byte, it statusItem) []byte {
	name, _ := json.Marshal(it.Stream)
	b = append(b, `[{"stream":`...)
	b = append(b, name...)
	b = append(b, `,"ranges":[`...)
	for i, r := range it.Ranges {
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
	if len(it.BriefThumbnails) > 0 {
		b = append(b, `,"brief_thumbnails":[`...)
		for i, t := range it.BriefThumbnails {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, t, 10)
		}
		b = append(b, ']')
	}
	return append(b, "}]\n"...)
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

// ranges merges thumbnail times (ms, ascending) whose gap is at most two
// segment durations; each range lasts until its last keyframe plus one
// segment.
func ranges(times []int64, seg time.Duration) []statusRange {
	if seg <= 0 {
		seg = config.DefaultSegmentDuration
	}
	segMs := seg.Milliseconds()
	segSec := (segMs + 999) / 1000
	out := []statusRange{}
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
