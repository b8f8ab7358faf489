package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

var key = []byte("0123456789abcdef-test-key")

func TestVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good := Sign(key, "a/b", now.Add(time.Hour))
	for _, tc := range []struct {
		name, stream, token string
		want                error
	}{
		{"valid", "a/b", good, nil},
		{"empty", "a/b", "", ErrMissing},
		{"other stream", "a", good, ErrForged},
		{"other key", "a/b", Sign([]byte("another key......"), "a/b", now.Add(time.Hour)), ErrForged},
		{"expired", "a/b", Sign(key, "a/b", now.Add(-time.Second)), ErrExpired},
		{"expires now", "a/b", Sign(key, "a/b", now), ErrExpired},
		{"no dash", "a/b", "1700003600", ErrMalformed},
		{"leading zero", "a/b", "0" + good, ErrMalformed},
		{"sign", "a/b", "+" + good, ErrMalformed},
		{"short sig", "a/b", good[:len(good)-1], ErrMalformed},
		{"long sig", "a/b", good + "0", ErrMalformed},
		{"overflow", "a/b", "99999999999999999999-" + good[11:], ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(key, tc.stream, tc.token, now); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDisabledAllows(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var nilc *Checker
	for _, ch := range []*Checker{c, nilc} {
		if ch.Enabled() || ch.Check(context.Background(), "x", "", "") != nil {
			t.Fatal("a checker without key or backend must allow")
		}
	}
	if _, err := New(Config{BackendURL: "ftp://x"}); err == nil {
		t.Fatal("ftp backend accepted")
	}
}

func TestBackend(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		switch {
		case q.Get("name") == "slow":
			<-release
		case q.Get("token") == "good" && q.Get("ip") == "10.0.0.1" && q.Get("x") == "1":
			w.WriteHeader(http.StatusOK)
		case q.Get("token") == "redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer srv.Close()
	defer close(release)
	now := time.Unix(1_700_000_000, 0)
	c, err := New(Config{BackendURL: srv.URL + "/check?x=1", CacheTTL: time.Minute, Timeout: 100 * time.Millisecond,
		MaxCached: 4, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		stream, token, ip string
		want              error
		calls             int32
	}{
		{"cam", "good", "10.0.0.1", nil, 1},
		{"cam", "good", "10.0.0.1", nil, 1}, // cached
		{"cam", "good", "10.0.0.2", ErrDenied, 2},
		{"cam", "good", "10.0.0.2", ErrDenied, 2}, // denial cached
		{"cam", "redirect", "10.0.0.1", ErrDenied, 3},
		{"cam", "", "10.0.0.1", ErrMissing, 3},
		{"slow", "good", "10.0.0.1", ErrUnavailable, 4},
		{"slow", "good", "10.0.0.1", ErrUnavailable, 5}, // failures are not cached
	} {
		if err := c.Check(ctx, tc.stream, tc.token, tc.ip); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Fatalf("Check(%s,%s,%s) = %v, want %v", tc.stream, tc.token, tc.ip, err, tc.want)
		}
		if got := calls.Load(); got != tc.calls {
			t.Fatalf("Check(%s,%s,%s): backend calls = %d, want %d", tc.stream, tc.token, tc.ip, got, tc.calls)
		}
	}
	// Expiry of cached decisions, and the bound.
	now = now.Add(2 * time.Minute)
	if err := c.Check(ctx, "cam", "good", "10.0.0.1"); err != nil || calls.Load() != 6 {
		t.Fatalf("after TTL: %v, calls %d", err, calls.Load())
	}
	for i := range 10 {
		c.Check(ctx, "cam", "t"+string(rune('a'+i)), "10.0.0.1")
	}
	if n := c.cached(); n > 4 {
		t.Fatalf("cache holds %d decisions, bound 4", n)
	}

	down, err := New(Config{BackendURL: "http://127.0.0.1:1/check"})
	if err != nil {
		t.Fatal(err)
	}
	if err := down.Check(ctx, "cam", "good", "10.0.0.1"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unreachable backend: %v", err)
	}
}

func TestTokenAndBackend(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	now := time.Unix(1_700_000_000, 0)
	c, err := New(Config{TokenKey: string(key), BackendURL: srv.URL, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background(), "cam", "forged-token", "ip"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a bad token must be refused before the backend: %v", err)
	}
	if err := c.Check(context.Background(), "cam", Sign(key, "cam", now.Add(time.Minute)), "ip"); err != nil {
		t.Fatal(err)
	}
}

func TestVerifiedCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c, err := New(Config{TokenKey: string(key), MaxCached: 2, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok := Sign(key, "cam", now.Add(time.Minute))
	for range 2 { // the second check is served from the cache
		if err := c.Check(ctx, "cam", tok, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Check(ctx, "other", tok, ""); !errors.Is(err, ErrForged) {
		t.Fatalf("cached token on another stream: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if err := c.Check(ctx, "cam", tok, ""); !errors.Is(err, ErrExpired) {
		t.Fatalf("cached token past its expiry: %v", err)
	}
	for i := range 5 { // the bound: the map is reset when full
		c.Check(ctx, "cam", Sign(key, "cam", now.Add(time.Duration(i+1)*time.Minute)), "")
	}
	c.vmu.RLock()
	n := len(c.verified)
	c.vmu.RUnlock()
	if n > 2 {
		t.Fatalf("verified cache holds %d, bound 2", n)
	}
}
