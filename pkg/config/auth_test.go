package config

import (
	"errors"
	"testing"
	"time"
)

func TestAuth(t *testing.T) {
	p := write(t, "data_dir: /tmp/x\nauth: {token_key: 0123456789abcdef0123, backend_url: 'http://127.0.0.1:9/check', cache_ttl: 30s}\n")
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Auth.Enabled() || cfg.Auth.CacheTTLOrDefault() != 30*time.Second || cfg.Auth.BackendURL != "http://127.0.0.1:9/check" {
		t.Fatalf("auth = %+v", cfg.Auth)
	}
	if m := cfg.Masked(); m.Auth.TokenKey != "***" || cfg.Auth.TokenKey == "***" {
		t.Fatalf("masked token key = %q (original %q)", m.Auth.TokenKey, cfg.Auth.TokenKey)
	}
	if (Auth{}).Enabled() || (Auth{}).CacheTTLOrDefault() != DefaultAuthCacheTTL {
		t.Fatal("empty auth must be off with the default TTL")
	}
	for _, tc := range []struct{ body, key string }{
		{"auth: {backend_url: 'ftp://x/y'}", "auth.backend_url"},
		{"auth: {backend_url: 'http://'}", "auth.backend_url"},
		{"auth: {backend_url: ':bad'}", "auth.backend_url"},
		{"auth: {token_key: short}", "auth.token_key"},
		{"auth: {cache_ttl: 2h}", "auth.cache_ttl"},
		{"auth: {cache_ttl: -1s}", "auth.cache_ttl"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			_, err := Load(write(t, "data_dir: /tmp/x\n"+tc.body+"\n"))
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tc.key {
				t.Fatalf("err = %v, want key %s", err, tc.key)
			}
		})
	}
}
