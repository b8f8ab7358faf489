package layout

import (
	"testing"
	"time"
)

func TestKeys(t *testing.T) {
	ts := time.Date(2026, 11, 25, 7, 8, 9, 987_000_000, time.FixedZone("x", 3600))
	for _, tc := range []struct{ got, want string }{
		{JPEG("a/b", ts), "a/b/2026/11/25/06/08/09.jpg"},
		{SizedJPEG("cam", ts, 320, 180), "cam/2026/11/25/06/08/09-320x180.jpg"},
		{MP4("cam", ts), "cam/2026/11/25/06/08/09-preview.mp4"},
		{DatePath(FromMillis(0)), "1970/01/01/00/00/00"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
