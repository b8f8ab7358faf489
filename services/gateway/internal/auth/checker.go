package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Config configures a Checker. With neither TokenKey nor BackendURL every
// request is allowed.
type Config struct {
	// TokenKey signs play tokens; empty = no HMAC check.
	TokenKey string
	// BackendURL is asked GET <url>?name=&token=&ip=; empty = none. When
	// both are set a request needs a valid signed token AND the backend's
	// 200.
	BackendURL string
	// CacheTTL is how long a backend decision is reused (0 = 10 s).
	CacheTTL time.Duration
	// Timeout bounds a backend call (0 = 2 s); a timeout denies.
	Timeout time.Duration
	// MaxCached bounds the decision cache (0 = 65,536 entries).
	MaxCached int
	// Client is the HTTP client for the backend (nil = a private one).
	Client *http.Client
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Checker decides whether a request for a stream may be served.
type Checker struct {
	cfg     Config
	key     []byte
	backend *url.URL
	log     *slog.Logger

	mu    sync.Mutex
	cache map[cacheKey]decision

	// verified remembers signatures already checked (stream, token →
	// expiry), so a viewer's repeated requests skip the HMAC; the expiry
	// is still checked every time.
	vmu      sync.RWMutex
	verified map[cacheKey]int64
}

type cacheKey struct{ stream, token, ip string }

type decision struct {
	allow bool
	until time.Time
}

// New returns a Checker; an invalid BackendURL is an error.
func New(cfg Config) (*Checker, error) {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.MaxCached <= 0 {
		cfg.MaxCached = 1 << 16
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	c := &Checker{cfg: cfg, key: []byte(cfg.TokenKey), log: cfg.Log.With("component", "auth"), cache: map[cacheKey]decision{}}
	if cfg.BackendURL != "" {
		u, err := url.Parse(cfg.BackendURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("auth: backend url %q is not an http(s) URL", cfg.BackendURL)
		}
		c.backend = u
	}
	return c, nil
}

func (c *Checker) verify(stream, token string) error {
	k := cacheKey{stream: stream, token: token}
	now := c.cfg.Now()
	c.vmu.RLock()
	exp, ok := c.verified[k]
	c.vmu.RUnlock()
	if ok {
		if now.Unix() >= exp {
			return ErrExpired
		}
		return nil
	}
	if err := Verify(c.key, stream, token, now); err != nil {
		return err
	}
	exp, _ = expiry(token)
	c.vmu.Lock()
	if c.verified == nil || len(c.verified) >= c.cfg.MaxCached {
		c.verified = map[cacheKey]int64{}
	}
	c.verified[k] = exp
	c.vmu.Unlock()
	return nil
}

// Enabled reports whether requests need a token.
func (c *Checker) Enabled() bool { return c != nil && (len(c.key) > 0 || c.backend != nil) }

// Check allows (nil) or refuses a request for stream carrying token from
// the client address ip. A nil or disabled Checker allows everything.
func (c *Checker) Check(ctx context.Context, stream, token, ip string) error {
	if !c.Enabled() {
		return nil
	}
	if token == "" {
		return ErrMissing
	}
	if len(c.key) > 0 {
		if err := c.verify(stream, token); err != nil {
			return err
		}
	}
	if c.backend == nil {
		return nil
	}
	return c.askBackend(ctx, stream, token, ip)
}

func (c *Checker) askBackend(ctx context.Context, stream, token, ip string) error {
	k := cacheKey{stream, token, ip}
	now := c.cfg.Now()
	c.mu.Lock()
	d, ok := c.cache[k]
	c.mu.Unlock()
	if ok && now.Before(d.until) {
		if d.allow {
			return nil
		}
		return ErrDenied
	}
	allow, err := c.call(ctx, stream, token, ip)
	if err != nil {
		c.log.Warn("auth backend failed; denying", "stream", stream, "ip", ip, "err", err)
		return ErrUnavailable // the details (backend URL) stay in the log
	}
	c.remember(k, decision{allow: allow, until: now.Add(c.cfg.CacheTTL)}, now)
	if !allow {
		return ErrDenied
	}
	return nil
}

// remember stores a decision, first dropping expired ones when the cache
// is full, and everything when that is not enough.
func (c *Checker) remember(k cacheKey, d decision, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= c.cfg.MaxCached {
		for ck, cd := range c.cache {
			if !now.Before(cd.until) {
				delete(c.cache, ck)
			}
		}
		if len(c.cache) >= c.cfg.MaxCached {
			clear(c.cache)
		}
	}
	c.cache[k] = d
}

// cached is the number of cached decisions.
func (c *Checker) cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cache)
}

// call asks the backend: 200 allows, any other status denies, a transport
// error or timeout is an error.
func (c *Checker) call(ctx context.Context, stream, token, ip string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := *c.backend
	q := u.Query()
	q.Set("name", stream)
	q.Set("token", token)
	q.Set("ip", ip)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err
	}
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return false, fmt.Errorf("no answer within %s", c.cfg.Timeout)
		}
		return false, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode == http.StatusOK, nil
}
