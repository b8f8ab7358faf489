package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/stills-video/stills/pkg/config"
)

// MaxBody bounds a PUT body.
const MaxBody = 64 << 10

// rawStream is config.Stream with every field kept raw, so each is decoded
// on its own and an error names its field. Unknown fields are refused at
// every level.
type rawStream struct {
	Name            json.RawMessage `json:"name"`
	URL             json.RawMessage `json:"url"`
	SegmentDuration json.RawMessage `json:"segment_duration"`
	Thumbnails      json.RawMessage `json:"thumbnails"`
	DVR             json.RawMessage `json:"dvr"`
}

type rawThumbnails struct {
	Enabled json.RawMessage `json:"enabled"`
	URL     json.RawMessage `json:"url"`
	Sizes   json.RawMessage `json:"sizes"`
	Quality json.RawMessage `json:"quality"`
}

type rawDVR struct {
	Retention json.RawMessage `json:"retention"`
}

// decodeStream reads the PUT body: application/json, at most MaxBody
// bytes, one object of config.Stream's fields. Absent or null fields keep
// their zero value (the default after Prepare). The returned name is the
// body's "name" ("" when absent).
func decodeStream(w http.ResponseWriter, r *http.Request) (s config.Stream, bodyName string, err error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return s, "", fmt.Errorf("%w: Content-Type must be application/json", ErrMediaType)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return s, "", fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxBody)
		}
		return s, "", fmt.Errorf("%w: reading body: %v", ErrBadRequest, err)
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || string(t) == "null" {
		return s, "", &config.Error{Key: "body", Reason: "must be a JSON object"}
	}
	var raw rawStream
	if err := field("body", body, &raw); err != nil {
		return s, "", err
	}
	var (
		th  rawThumbnails
		dvr rawDVR
	)
	// Outer fields first: the nested raw values exist once their parent
	// is decoded.
	for _, f := range []fieldDst{
		{"name", &raw.Name, &bodyName},
		{"url", &raw.URL, &s.URL},
		{"segment_duration", &raw.SegmentDuration, &s.SegmentDuration},
		{"thumbnails", &raw.Thumbnails, &th},
		{"thumbnails.enabled", &th.Enabled, &s.Thumbnails.Enabled},
		{"thumbnails.url", &th.URL, &s.Thumbnails.URL},
		{"thumbnails.sizes", &th.Sizes, &s.Thumbnails.Sizes},
		{"thumbnails.quality", &th.Quality, &s.Thumbnails.Quality},
		{"dvr", &raw.DVR, &dvr},
		{"dvr.retention", &dvr.Retention, &s.DVR.Retention},
	} {
		if err := field(f.key, *f.raw, f.dst); err != nil {
			return s, "", err
		}
	}
	return s, bodyName, nil
}

type fieldDst struct {
	key string
	raw *json.RawMessage
	dst any
}

// field decodes one JSON value into dst; errors name key. An absent or
// null value leaves dst alone.
func field(key string, raw json.RawMessage, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON value")
		}
	}
	if err == nil {
		return nil
	}
	var (
		te *json.UnmarshalTypeError
		se *json.SyntaxError
	)
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			key += "." + te.Field
		}
		return &config.Error{Key: key, Reason: fmt.Sprintf("must be %s, not %s", jsonType(te.Type.Kind().String()), te.Value)}
	case errors.As(err, &se):
		return &config.Error{Key: key, Reason: fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &config.Error{Key: key, Reason: "truncated JSON"}
	default:
		return &config.Error{Key: key, Reason: strings.TrimPrefix(err.Error(), "json: ")}
	}
}

// jsonType names a Go kind the way a JSON client thinks of it.
func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "uint32", "uint64":
		return "an integer"
	case "float64":
		return "a number"
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "a boolean"
	default:
		return kind
	}
}
