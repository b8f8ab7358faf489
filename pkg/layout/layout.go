// Package layout names the objects Stills stores (DESIGN §3):
//
//	<stream>/YYYY/MM/DD/HH/MM/SS.jpg          canonical JPEG (first size)
//	<stream>/YYYY/MM/DD/HH/MM/SS-WxH.jpg      each extra size
//	<stream>/YYYY/MM/DD/HH/MM/SS-preview.mp4  one-frame MP4
//
// Times are UTC and truncated to the second of the keyframe.
package layout

import (
	"fmt"
	"time"
)

// DatePath is the "YYYY/MM/DD/HH/MM/SS" part of every key for t.
func DatePath(t time.Time) string {
	return t.UTC().Format("2006/01/02/15/04/05")
}

// JPEG is the key of the canonical JPEG of stream at t.
func JPEG(stream string, t time.Time) string {
	return stream + "/" + DatePath(t) + ".jpg"
}

// SizedJPEG is the key of an extra-size JPEG.
func SizedJPEG(stream string, t time.Time, w, h int) string {
	return fmt.Sprintf("%s/%s-%dx%d.jpg", stream, DatePath(t), w, h)
}

// MP4 is the key of the one-frame MP4 of stream at t.
func MP4(stream string, t time.Time) string {
	return stream + "/" + DatePath(t) + "-preview.mp4"
}

// FromMillis converts Unix milliseconds to a UTC time.
func FromMillis(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}
