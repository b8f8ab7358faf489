package config

import (
	"fmt"
	"net/url"
	"time"
)

// Auth configures play tokens on the thumbnail URLs (DESIGN §6). With
// TokenKey set every thumbnail URL needs ?token=<expires>-<hex HMAC>; with
// BackendURL set the gateway asks that URL (allow on 200) instead of or
// besides checking the HMAC.
type Auth struct {
	TokenKey   string `yaml:"token_key" secret:"true"`
	BackendURL string `yaml:"backend_url"`
	// CacheTTL is how long a backend decision is reused (default 10s).
	CacheTTL Duration `yaml:"cache_ttl"`
}

// DefaultAuthCacheTTL is auth.cache_ttl when unset.
const DefaultAuthCacheTTL = 10 * time.Second

// Enabled reports whether any play-token check is configured.
func (a Auth) Enabled() bool { return a.TokenKey != "" || a.BackendURL != "" }

// CacheTTLOrDefault is CacheTTL, DefaultAuthCacheTTL when unset.
func (a Auth) CacheTTLOrDefault() time.Duration {
	if a.CacheTTL == 0 {
		return DefaultAuthCacheTTL
	}
	return a.CacheTTL.D()
}

func (a Auth) validate() error {
	if a.BackendURL != "" {
		u, err := url.Parse(a.BackendURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{"auth.backend_url", fmt.Sprintf("%q is not an http(s) URL", a.BackendURL)}
		}
	}
	if a.TokenKey != "" && len(a.TokenKey) < 16 {
		return &Error{"auth.token_key", "must be at least 16 bytes"}
	}
	if d := a.CacheTTL.D(); d < 0 || d > time.Hour {
		return &Error{"auth.cache_ttl", "must be between 0 and 1h"}
	}
	return nil
}
