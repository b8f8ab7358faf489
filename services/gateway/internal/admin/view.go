package admin

import (
	"net/url"
	"time"

	"github.com/stills-video/stills/pkg/config"
	"github.com/stills-video/stills/pkg/streamstore"
)

// View is one stream as GET /api/streams shows it: its settings (URLs with
// the password redacted) merged with the status its ingest reports and the
// number of thumbnails in this gateway's index.
type View struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Status string `json:"status"` // online | offline | starting | error
	// LastKeyframeAt is null until the ingest saw a keyframe.
	LastKeyframeAt  *time.Time `json:"last_keyframe_at"`
	ThumbnailsTotal int        `json:"thumbnails_total"`
	SegmentsTotal   uint64     `json:"segments_total"`
	ErrorsTotal     uint64     `json:"errors_total"`
	Error           string     `json:"error"`
	// Ingest is the ingest instance pulling the stream, "" when none.
	Ingest string `json:"ingest"`
	// StatusAt is when the ingest last reported, null when it never did.
	StatusAt *time.Time `json:"status_at"`

	SegmentDuration config.Duration   `json:"segment_duration"`
	Thumbnails      config.Thumbnails `json:"thumbnails"`
	DVR             config.DVR        `json:"dvr"`
}

// newView merges s with its status. Without a status the stream is
// "starting" for grace after this gateway first saw its configuration
// (seen), then "offline": statuses expire when their ingest stops
// refreshing them.
func newView(s config.Stream, st streamstore.Status, hasStatus bool, seen, now time.Time, grace time.Duration, thumbs int) View {
	v := View{
		Name:            s.Name,
		URL:             redact(s.URL),
		ThumbnailsTotal: thumbs,
		SegmentDuration: s.SegmentDuration,
		Thumbnails:      s.Thumbnails,
		DVR:             s.DVR,
	}
	v.Thumbnails.URL = redact(s.Thumbnails.URL)
	if v.Thumbnails.Sizes == nil {
		v.Thumbnails.Sizes = []config.Size{}
	}
	if !hasStatus {
		v.Status = streamstore.StateStarting
		if now.Sub(seen) > grace {
			v.Status = streamstore.StateOffline
		}
		return v
	}
	v.Status = st.Status
	if v.Status == "" {
		v.Status = streamstore.StateStarting
	}
	if !st.LastKeyframeAt.IsZero() {
		t := st.LastKeyframeAt.UTC()
		v.LastKeyframeAt = &t
	}
	if !st.UpdatedAt.IsZero() {
		t := st.UpdatedAt.UTC()
		v.StatusAt = &t
	}
	v.SegmentsTotal, v.ErrorsTotal, v.Error, v.Ingest = st.Segments, st.Errors, st.Error, st.Ingest
	return v
}

// redact hides the password of a URL ("rtsp://admin:xxxxx@cam/1").
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// keepSecrets restores the stored URLs when a PUT sends back the redacted
// form GET showed, so GET-edit-PUT does not overwrite a password with
// "xxxxx".
func keepSecrets(s *config.Stream, old config.Stream) {
	if r := redact(old.URL); r != old.URL && s.URL == r {
		s.URL = old.URL
	}
	if r := redact(old.Thumbnails.URL); r != old.Thumbnails.URL && s.Thumbnails.URL == r {
		s.Thumbnails.URL = old.Thumbnails.URL
	}
}
