package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stills-video/stills/services/gateway/internal/auth"
)

var tokenKey = []byte("attack-table-token-key-0123456789")

// authEnv is the env with play tokens on; now is T0+3600.
func authEnv(t *testing.T, backend string) *env {
	t.Helper()
	checker, err := auth.New(auth.Config{TokenKey: string(tokenKey), BackendURL: backend,
		Now: func() time.Time { return time.Unix(T0+3600, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, func(d *Deps) { d.Auth = checker })
	e.add("a", T0*1000, true, true, true)
	e.add("a/b", T0*1000, true, true, true)
	return e
}

func sign(stream string, exp int64) string {
	return auth.Sign(tokenKey, stream, time.Unix(exp, 0))
}

// TestTokenAttacks: every request here must be refused; none may reach a
// thumbnail (200/206/302/304).
func TestTokenAttacks(t *testing.T) {
	e := authEnv(t, "")
	const cam = "site/a/cam1"
	future := T0 + 7200
	good := sign(cam, future)
	exp, sig, _ := strings.Cut(good, "-")
	esc := url.QueryEscape
	preview := "/" + cam + "/preview.jpg?token="
	attacks := []struct{ name, method, target string }{
		{"missing", "GET", "/" + cam + "/preview.jpg"},
		{"empty", "GET", preview},
		{"expired", "GET", preview + sign(cam, T0)},
		{"expires this second", "GET", preview + sign(cam, T0+3600)},
		{"forged signature", "GET", preview + exp + "-" + strings.Repeat("ab", 32)},
		{"other key", "GET", preview + auth.Sign([]byte("another-key-0123456789"), cam, time.Unix(future, 0))},
		{"other stream", "GET", preview + sign("idx", future)},
		{"prefix stream a on a/b", "GET", "/a/b/preview.jpg?token=" + sign("a", future)},
		{"a/b token on a", "GET", "/a/preview.jpg?token=" + sign("a/b", future)},
		{"no dash", "GET", preview + exp + sig},
		{"truncated signature", "GET", preview + good[:len(good)-1]},
		{"signature too long", "GET", preview + good + "0"},
		{"extra dash", "GET", preview + good + "-x"},
		{"extra dash inside", "GET", preview + exp + "-" + sig[:32] + "-" + sig[32:]},
		{"leading dash", "GET", preview + "-" + good},
		{"uppercase hex", "GET", preview + exp + "-" + strings.ToUpper(sig)},
		{"overflow expiry", "GET", preview + "99999999999999999999-" + sig},
		{"negative expiry", "GET", preview + esc("-1-"+sig)},
		{"leading zero expiry", "GET", preview + "0" + good},
		{"plus expiry", "GET", preview + esc("+"+good)},
		{"space before", "GET", preview + esc(" "+good)},
		{"colon in expiry", "GET", preview + esc(exp+":x-"+sig)},
		{"unicode digits", "GET", preview + esc("１７０００-"+sig)},
		{"nul byte", "GET", preview + esc(good+"\x00")},
		{"huge token", "GET", preview + strings.Repeat("9", 10000)},
		{"token in another param", "GET", "/" + cam + "/preview.jpg?t=" + good},
		{"token param case", "GET", "/" + cam + "/preview.jpg?Token=" + good},
		{"two tokens, bad first", "GET", preview + "bad&token=" + good},
		{"two tokens, good first", "GET", preview + good + "&token=bad"},
		{"%2F path, token of a", "GET", "/a%2Fb/preview.jpg?token=" + sign("a", future)},
		{"double-encoded path", "GET", "/a%252Fb/preview.jpg?token=" + sign("a/b", future)},
		{"dot-dot path", "GET", "/a/../a/b/preview.jpg?token=" + sign("a", future)},
		{"dvr jpg other stream token", "GET", dvr(cam, 0, ".jpg?token=") + sign("idx", future)},
		{"unix preview redirect, expired", "GET", unixURL(cam, 4, "-preview.jpg?token=") + sign(cam, T0)},
		{"dvr mp4 missing", "GET", dvr(cam, 3, "-preview.mp4")},
		{"status other stream token", "GET", "/idx/recording_status.json?token=" + sign(cam, future)},
		{"mjpeg missing", "HEAD", "/" + cam + "/preview.mjpeg"},
		{"head expired", "HEAD", preview + sign(cam, T0)},
		{"unknown stream, no token", "GET", "/nope/preview.jpg"},
		{"conditional without token", "GET", "/" + cam + "/preview.jpg"}, // with If-None-Match below
	}
	bypasses := 0
	for _, tc := range attacks {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(tc.method, tc.target, "If-None-Match", "*")
			switch resp.StatusCode {
			case 200, 206, 302, 304:
				bypasses++
				t.Errorf("BYPASS: %s %s → %d", tc.method, tc.target, resp.StatusCode)
			case 403:
				if tc.method == "GET" {
					checkErrorBody(t, resp, 403, "forbidden")
				}
			case 400:
			default:
				t.Errorf("%s → %d, want 403 (or 400 for a bad name)", tc.target, resp.StatusCode)
			}
		})
	}
	if len(attacks) < 30 || bypasses != 0 {
		t.Fatalf("%d attacks, %d bypasses", len(attacks), bypasses)
	}
}

func TestTokenAllows(t *testing.T) {
	e := authEnv(t, "")
	const cam = "site/a/cam1"
	good := sign(cam, T0+7200)
	if resp := e.do("GET", "/"+cam+"/preview.jpg?token="+good); resp.StatusCode != 200 {
		t.Fatalf("good token: %d %s", resp.StatusCode, body(t, resp))
	}
	if resp := e.do("GET", "/a%2Fb/preview.jpg?token="+sign("a/b", T0+7200)); resp.StatusCode != 200 {
		t.Fatalf("escaped slash is the same stream: %d", resp.StatusCode)
	}
	// A redirect keeps the token, and its target accepts it.
	resp := e.do("GET", unixURL(cam, 4, "-preview.jpg?token=")+good)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasSuffix(loc, "?token="+good) {
		t.Fatalf("redirect: %d %q", resp.StatusCode, loc)
	}
	if resp := e.do("GET", loc); resp.StatusCode != 200 {
		t.Fatalf("redirect target: %d", resp.StatusCode)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/api/openapi.json"} {
		if resp := e.do("GET", p); resp.StatusCode != 200 {
			t.Errorf("%s needs no token: %d", p, resp.StatusCode)
		}
	}
}

func TestTokenBackend(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("name") != "site/a/cam1" || r.URL.Query().Get("ip") != "192.0.2.1" {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	e := authEnv(t, srv.URL)
	good := sign("site/a/cam1", T0+7200)
	if resp := e.do("GET", "/site/a/cam1/preview.jpg?token="+good); resp.StatusCode != 200 {
		t.Fatalf("backend allows: %d", resp.StatusCode)
	}
	resp := e.do("GET", "/a/preview.jpg?token="+sign("a", T0+7200))
	if resp.StatusCode != 403 {
		t.Fatalf("backend denies: %d", resp.StatusCode)
	}
	checkErrorBody(t, resp, 403, "forbidden")
	srv.Close()
	resp = e.do("GET", "/idx/preview.jpg?token="+sign("idx", T0+7200))
	if resp.StatusCode != 503 {
		t.Fatalf("backend down must deny with 503: %d", resp.StatusCode)
	}
	checkErrorBody(t, resp, 503, "auth_unavailable")
	if b := fmt.Sprint(resp.Header); strings.Contains(b, srv.URL) {
		t.Fatal("backend URL leaked")
	}
}
