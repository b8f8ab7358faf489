package index

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/stills-video/stills/pkg/blob"
	"github.com/stills-video/stills/pkg/layout"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// Object is one stored file of a thumbnail.
type Object struct {
	Key    string
	Bytes  int64
	Width  uint32
	Height uint32
}

// Entry is one indexed keyframe: at most one per stream and UTC second.
type Entry struct {
	// TimeMs is the keyframe time, Unix milliseconds (the first keyframe
	// of its second).
	TimeMs int64
	// JPEGs, the canonical one first; empty when only the MP4 is stored.
	JPEGs []Object
	// MP4 is the one-frame MP4; Key is empty when none was stored.
	MP4    Object
	Source string
}

// Time is TimeMs as a UTC time.
func (e Entry) Time() time.Time { return layout.FromMillis(e.TimeMs) }

// Unix is the second of the keyframe.
func (e Entry) Unix() int64 { return floorSec(e.TimeMs) / 1000 }

// JPEG returns the canonical JPEG.
func (e Entry) JPEG() (Object, bool) {
	if len(e.JPEGs) == 0 || e.JPEGs[0].Key == "" {
		return Object{}, false
	}
	return e.JPEGs[0], true
}

// HasMP4 reports whether the one-frame MP4 is stored.
func (e Entry) HasMP4() bool { return e.MP4.Key != "" }

// fromEvent converts an event; object keys that are not valid blob keys
// are dropped (they could never be served).
func fromEvent(ev *stillsv1.ThumbnailStored) Entry {
	e := Entry{TimeMs: ev.GetTimeMs(), Source: ev.GetSource()}
	for _, j := range ev.GetJpegs() {
		if blob.ValidateKey(j.GetKey()) == nil {
			e.JPEGs = append(e.JPEGs, objectFrom(j))
		}
	}
	if m := ev.GetMp4(); m != nil && blob.ValidateKey(m.GetKey()) == nil {
		e.MP4 = objectFrom(m)
	}
	return e
}

func (e Entry) empty() bool { return len(e.JPEGs) == 0 && e.MP4.Key == "" }

func objectFrom(o *stillsv1.StoredObject) Object {
	return Object{Key: o.GetKey(), Bytes: o.GetBytes(), Width: o.GetWidth(), Height: o.GetHeight()}
}

// merge folds a later-applied entry of the same second into e: the earliest
// keyframe keeps the second, objects are the union by key (so an on-demand
// render adds its JPEG to an MP4-only entry). It reports whether e changed.
func (e *Entry) merge(o Entry) bool {
	changed := false
	if o.TimeMs < e.TimeMs {
		e.TimeMs, e.Source = o.TimeMs, o.Source
		changed = true
	}
	for _, j := range o.JPEGs {
		if !e.hasJPEG(j.Key) {
			e.JPEGs = append(e.JPEGs, j)
			changed = true
		}
	}
	if e.MP4.Key == "" && o.MP4.Key != "" {
		e.MP4 = o.MP4
		changed = true
	}
	if e.Source == "" && o.Source != "" {
		e.Source = o.Source
		changed = true
	}
	return changed
}

func (e *Entry) hasJPEG(key string) bool {
	for _, j := range e.JPEGs {
		if j.Key == key {
			return true
		}
	}
	return false
}

// Record format, version 1 (all integers uvarint):
//
//	1 | len source | source | n jpegs | n × object | object (mp4)
//	object = len key | key | bytes | width | height
const recordVersion = 1

func encodeRecord(e Entry) []byte {
	n := 8 + len(e.Source) + len(e.MP4.Key) + 24
	for _, j := range e.JPEGs {
		n += len(j.Key) + 24
	}
	b := make([]byte, 0, n)
	b = append(b, recordVersion)
	b = appendString(b, e.Source)
	b = binary.AppendUvarint(b, uint64(len(e.JPEGs)))
	for _, j := range e.JPEGs {
		b = appendObject(b, j)
	}
	return appendObject(b, e.MP4)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendObject(b []byte, o Object) []byte {
	b = appendString(b, o.Key)
	b = binary.AppendUvarint(b, uint64(max(o.Bytes, 0)))
	b = binary.AppendUvarint(b, uint64(o.Width))
	return binary.AppendUvarint(b, uint64(o.Height))
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = ErrCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = ErrCorrupt
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) object() Object {
	return Object{Key: r.string(), Bytes: int64(r.uvarint()), Width: uint32(r.uvarint()), Height: uint32(r.uvarint())}
}

func decodeRecord(ms int64, b []byte) (Entry, error) {
	if len(b) == 0 || b[0] != recordVersion {
		return Entry{}, fmt.Errorf("%w: version", ErrCorrupt)
	}
	r := &reader{b: b[1:]}
	e := Entry{TimeMs: ms, Source: r.string()}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return Entry{}, fmt.Errorf("%w: %d jpegs", ErrCorrupt, n)
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		e.JPEGs = append(e.JPEGs, r.object())
	}
	e.MP4 = r.object()
	if r.err != nil {
		return Entry{}, r.err
	}
	return e, nil
}

func timeKey(ms int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(ms))
}

func keyTime(k []byte) int64 { return int64(binary.BigEndian.Uint64(k)) }

func floorSec(ms int64) int64 { return ms - ms%1000 }
