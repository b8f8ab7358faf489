// Package config is the one configuration file every Stills binary reads
// (DESIGN §6). Load applies defaults, then the YAML file, then STILLS_*
// environment overrides, then Validate; each binary reads the parts it needs.
package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stills-video/stills/pkg/streamname"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// Config is the whole file.
type Config struct {
	HTTP        HTTP        `yaml:"http"`
	DataDir     string      `yaml:"data_dir"`
	NATS        NATS        `yaml:"nats"`
	Storage     Storage     `yaml:"storage"`
	Thumbnailer Thumbnailer `yaml:"thumbnailer"`
	Log         Log         `yaml:"log"`
	Metrics     Metrics     `yaml:"metrics"`
	Streams     []Stream    `yaml:"streams"`
	Auth        Auth        `yaml:"auth"`
}

// HTTP configures the gateway.
type HTTP struct {
	Listen   string `yaml:"listen"`
	AdminKey string `yaml:"admin_key" secret:"true"`
}

// NATS says where the bus is. An empty URL in one-box mode starts an
// embedded server.
type NATS struct {
	URL string `yaml:"url"`
	// Listen is the embedded server's client address in one-box mode
	// ("" = a random loopback port, nothing exposed).
	Listen string `yaml:"listen"`
	// MaxPayload is the largest message, bytes (embedded server and the
	// SEGMENTS stream). Keyframes larger than this are refused.
	MaxPayload int `yaml:"max_payload"`
}

// Storage selects the blob store: S3 when the s3 block is present, a local
// directory (Dir, default <data_dir>/blobs) otherwise.
type Storage struct {
	Dir string `yaml:"dir"`
	S3  *S3    `yaml:"s3"`
}

// S3 is any S3-compatible endpoint.
type S3 struct {
	Endpoint  string `yaml:"endpoint"`
	Bucket    string `yaml:"bucket"`
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key" secret:"true"`
	Secure    bool   `yaml:"secure"`
	Region    string `yaml:"region"`
}

// Thumbnailer tunes the workers.
type Thumbnailer struct {
	// Workers is the number of concurrent decode workers; 0 = one per core.
	Workers int `yaml:"workers"`
	// SkipLoopFilter skips the H.264/H.265 deblocking filter when decoding
	// thumbnails (faster, visually identical at thumbnail sizes).
	SkipLoopFilter *bool `yaml:"skip_loop_filter"`
	// SnapshotTimeout bounds a camera snapshot fetch (0 = 3s).
	SnapshotTimeout Duration `yaml:"snapshot_timeout"`
	// SnapshotMaxBytes caps a camera snapshot (0 = 8 MiB).
	SnapshotMaxBytes int64 `yaml:"snapshot_max_bytes"`
	// RenderTimeout bounds an on-demand render request (0 = 10s).
	RenderTimeout Duration `yaml:"render_timeout"`
}

// Metrics is the /metrics and /healthz listener of the ingest and
// thumbnailer binaries ("" = none). The gateway serves /metrics on
// http.listen.
type Metrics struct {
	Listen string `yaml:"listen"`
}

// SkipLoopFilterOrDefault is SkipLoopFilter, true when unset.
func (t Thumbnailer) SkipLoopFilterOrDefault() bool {
	return t.SkipLoopFilter == nil || *t.SkipLoopFilter
}

// Log configures log/slog output.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

// Stream is one camera or channel.
type Stream struct {
	Name            string     `yaml:"name" json:"name"`
	URL             string     `yaml:"url" json:"url"`
	SegmentDuration Duration   `yaml:"segment_duration" json:"segment_duration"`
	Thumbnails      Thumbnails `yaml:"thumbnails" json:"thumbnails"`
	DVR             DVR        `yaml:"dvr" json:"dvr"`
	// RTSPTransport is "tcp" (default, when empty) or "udp".
	RTSPTransport string `yaml:"rtsp_transport" json:"rtsp_transport,omitempty"`
}

// Thumbnails are the per-stream thumbnail settings.
type Thumbnails struct {
	Enabled Mode   `yaml:"enabled" json:"enabled"`
	URL     string `yaml:"url" json:"url"`
	Sizes   []Size `yaml:"sizes" json:"sizes"`
	Quality int    `yaml:"quality" json:"quality"`
}

// Size is a bounding box a JPEG is fitted into.
type Size struct {
	Width  int `yaml:"width" json:"width"`
	Height int `yaml:"height" json:"height"`
}

// DVR is the archive policy.
type DVR struct {
	Retention Duration `yaml:"retention" json:"retention"`
}

// Defaults.
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultDataDir         = "./data"
	DefaultMaxPayload      = 8 << 20
	DefaultSegmentDuration = 3 * time.Second
	DefaultQuality         = 80
	DefaultRetention       = 48 * time.Hour
)

// Default returns a Config with every default filled in.
func Default() Config {
	return Config{
		HTTP:    HTTP{Listen: DefaultListen},
		DataDir: DefaultDataDir,
		NATS:    NATS{MaxPayload: DefaultMaxPayload},
		Log:     Log{Level: "info", Format: "text"},
	}
}

// Load reads path (may be "" for defaults only), applies the environment
// and validates. Errors name the offending key.
func Load(path string) (Config, error) {
	cfg := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && err.Error() != "EOF" {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := ApplyEnv(&cfg, os.Environ()); err != nil {
		return Config{}, err
	}
	cfg.fillDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c *Config) fillDefaults() {
	if c.NATS.MaxPayload == 0 {
		c.NATS.MaxPayload = DefaultMaxPayload
	}
	if c.Storage.Dir == "" && c.DataDir != "" {
		c.Storage.Dir = c.DataDir + "/blobs"
	}
	for i := range c.Streams {
		c.Streams[i].FillDefaults()
	}
}

// FillDefaults sets the defaults of the optional stream fields.
func (s *Stream) FillDefaults() {
	if s.SegmentDuration == 0 {
		s.SegmentDuration = Duration(DefaultSegmentDuration)
	}
	if s.Thumbnails.Quality == 0 {
		s.Thumbnails.Quality = DefaultQuality
	}
	if s.DVR.Retention == 0 {
		s.DVR.Retention = Duration(DefaultRetention)
	}
}

// Error is a validation error naming the key.
type Error struct {
	Key    string
	Reason string
}

func (e *Error) Error() string { return "config: " + e.Key + ": " + e.Reason }

// Validate checks the whole file.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return &Error{"data_dir", "must not be empty"}
	}
	if c.NATS.MaxPayload < 1<<20 || c.NATS.MaxPayload > 64<<20 {
		return &Error{"nats.max_payload", "must be between 1 MiB and 64 MiB"}
	}
	if c.NATS.URL != "" {
		if u, err := url.Parse(c.NATS.URL); err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return &Error{"nats.url", fmt.Sprintf("%q is not a nats:// URL", c.NATS.URL)}
		}
	}
	if s := c.Storage.S3; s != nil {
		switch {
		case s.Endpoint == "" || strings.Contains(s.Endpoint, "/"):
			return &Error{"storage.s3.endpoint", "must be host:port"}
		case s.Bucket == "":
			return &Error{"storage.s3.bucket", "must not be empty"}
		}
	}
	if err := c.Auth.validate(); err != nil {
		return err
	}
	if c.Thumbnailer.Workers < 0 || c.Thumbnailer.Workers > 256 {
		return &Error{"thumbnailer.workers", "must be between 0 and 256"}
	}
	if d := c.Thumbnailer.SnapshotTimeout.D(); d < 0 || d > time.Minute {
		return &Error{"thumbnailer.snapshot_timeout", "must be between 0 and 1m"}
	}
	if n := c.Thumbnailer.SnapshotMaxBytes; n < 0 || n > 64<<20 {
		return &Error{"thumbnailer.snapshot_max_bytes", "must be between 0 and 64 MiB"}
	}
	if d := c.Thumbnailer.RenderTimeout.D(); d < 0 || d > time.Minute {
		return &Error{"thumbnailer.render_timeout", "must be between 0 and 1m"}
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		return &Error{"log.level", fmt.Sprintf("unknown level %q", c.Log.Level)}
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		return &Error{"log.format", fmt.Sprintf("unknown format %q", c.Log.Format)}
	}
	seen := map[string]bool{}
	for i := range c.Streams {
		s := &c.Streams[i]
		if err := s.Validate(); err != nil {
			e := err.(*Error)
			return &Error{fmt.Sprintf("streams[%d].%s", i, e.Key), e.Reason}
		}
		if seen[s.Name] {
			return &Error{fmt.Sprintf("streams[%d].name", i), fmt.Sprintf("duplicate stream %q", s.Name)}
		}
		seen[s.Name] = true
	}
	return nil
}

// Validate checks one stream; the returned *Error's Key is relative to
// the stream ("name", "thumbnails.quality", ...). Call FillDefaults first.
func (s *Stream) Validate() error {
	if err := streamname.Validate(s.Name); err != nil {
		return &Error{"name", err.Error()}
	}
	if err := ValidateSourceURL(s.URL); err != nil {
		return &Error{"url", err.Error()}
	}
	if t := s.RTSPTransport; t != "" && t != "tcp" && t != "udp" {
		return &Error{"rtsp_transport", `must be "tcp" or "udp"`}
	}
	if d := s.SegmentDuration.D(); d < 500*time.Millisecond || d > 10*time.Minute {
		return &Error{"segment_duration", "must be between 500ms and 10m"}
	}
	if q := s.Thumbnails.Quality; q < 1 || q > 100 {
		return &Error{"thumbnails.quality", "must be between 1 and 100"}
	}
	if s.Thumbnails.URL != "" {
		u, err := url.Parse(s.Thumbnails.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{"thumbnails.url", "must be an http(s) URL"}
		}
	}
	for j, sz := range s.Thumbnails.Sizes {
		if sz.Width < 16 || sz.Height < 16 || sz.Width > 8192 || sz.Height > 8192 {
			return &Error{fmt.Sprintf("thumbnails.sizes[%d]", j), "width and height must be between 16 and 8192"}
		}
	}
	if r := s.DVR.Retention.D(); r < time.Minute || r > 10*365*24*time.Hour {
		return &Error{"dvr.retention", "must be between 1m and 10 years"}
	}
	return nil
}

// ValidateSourceURL accepts rtsp://, rtsps://, fake://NAME and file:///path.
func ValidateSourceURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("must not be empty")
	}
	if len(raw) > 2048 {
		return fmt.Errorf("longer than 2048 bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %v", err)
	}
	switch u.Scheme {
	case "rtsp", "rtsps":
		if u.Host == "" {
			return fmt.Errorf("%s URL without a host", u.Scheme)
		}
	case "fake":
		if u.Host == "" {
			return fmt.Errorf("fake:// URL needs a name, e.g. fake://cam1")
		}
	case "file":
		if u.Path == "" || u.Host != "" {
			return fmt.Errorf("file URL must be file:///absolute/path")
		}
	default:
		return fmt.Errorf("scheme %q not supported (rtsp, rtsps, fake, file)", u.Scheme)
	}
	return nil
}

// Settings converts the stream's thumbnail settings to the wire form.
func (s *Stream) Settings() *stillsv1.ThumbnailSettings {
	out := &stillsv1.ThumbnailSettings{
		Mode:        s.Thumbnails.Enabled.Proto(),
		Quality:     uint32(s.Thumbnails.Quality),
		SnapshotUrl: s.Thumbnails.URL,
	}
	for _, sz := range s.Thumbnails.Sizes {
		out.Sizes = append(out.Sizes, &stillsv1.Size{Width: uint32(sz.Width), Height: uint32(sz.Height)})
	}
	return out
}

// MaxRetention is the longest DVR retention of all streams (the THUMBS
// stream's max age), at least the default.
func (c *Config) MaxRetention() time.Duration {
	m := DefaultRetention
	for _, s := range c.Streams {
		if r := s.DVR.Retention.D(); r > m {
			m = r
		}
	}
	return m
}

// Stream returns the configured stream called name.
func (c *Config) Stream(name string) (Stream, bool) {
	for _, s := range c.Streams {
		if s.Name == name {
			return s, true
		}
	}
	return Stream{}, false
}
