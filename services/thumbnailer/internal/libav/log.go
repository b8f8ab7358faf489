package libav

import "github.com/asticode/go-astiav"

// libav prints to stderr by default: a corrupt keyframe would write lines
// there on every event, and swscale warns about the deprecated yuvj420p
// format we choose on purpose (it is how the MJPEG encoder takes full-range
// input). Every failure already comes back as a Go error, counted and
// logged by the worker, so only fatal messages are let through.
func init() { astiav.SetLogLevel(astiav.LogLevelFatal) }
