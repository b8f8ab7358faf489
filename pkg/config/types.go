package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// Duration is a time.Duration written as "3s", "48h" in YAML and JSON.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

func (d *Duration) parse(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q", s)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML accepts a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error { return d.parse(n.Value) }

// MarshalYAML writes a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalJSON accepts a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"3s\"")
	}
	return d.parse(s)
}

// MarshalJSON writes a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Mode is thumbnails.enabled: true, false or ondemand.
type Mode int

// Modes. The zero value is ModeEnabled, so an absent key means "on".
const (
	ModeEnabled Mode = iota
	ModeDisabled
	ModeOnDemand
)

func (m Mode) String() string {
	switch m {
	case ModeDisabled:
		return "false"
	case ModeOnDemand:
		return "ondemand"
	default:
		return "true"
	}
}

func (m *Mode) parse(s string) error {
	switch s {
	case "true", "yes", "on":
		*m = ModeEnabled
	case "false", "no", "off":
		*m = ModeDisabled
	case "ondemand":
		*m = ModeOnDemand
	default:
		return fmt.Errorf("enabled must be true, false or ondemand, not %q", s)
	}
	return nil
}

// UnmarshalYAML accepts true, false or ondemand.
func (m *Mode) UnmarshalYAML(n *yaml.Node) error { return m.parse(n.Value) }

// MarshalYAML writes true, false or "ondemand".
func (m Mode) MarshalYAML() (any, error) {
	if m == ModeOnDemand {
		return "ondemand", nil
	}
	return m != ModeDisabled, nil
}

// UnmarshalJSON accepts true, false or "ondemand".
func (m *Mode) UnmarshalJSON(b []byte) error {
	s := string(b)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	return m.parse(s)
}

// MarshalJSON writes true, false or "ondemand".
func (m Mode) MarshalJSON() ([]byte, error) {
	if m == ModeOnDemand {
		return []byte(`"ondemand"`), nil
	}
	return json.Marshal(m != ModeDisabled)
}

// Proto converts to the wire enum.
func (m Mode) Proto() stillsv1.ThumbnailMode {
	switch m {
	case ModeDisabled:
		return stillsv1.ThumbnailMode_THUMBNAIL_MODE_DISABLED
	case ModeOnDemand:
		return stillsv1.ThumbnailMode_THUMBNAIL_MODE_ONDEMAND
	default:
		return stillsv1.ThumbnailMode_THUMBNAIL_MODE_ENABLED
	}
}
