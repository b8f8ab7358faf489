package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// authorize requires "Authorization: Bearer <Key>" when a key is set. Both
// sides are hashed first, so the comparison takes the same time whatever
// the length or prefix of the presented key.
func (a *admin) authorize(next http.Handler) http.Handler {
	if a.Key == "" {
		return next
	}
	want := sha256.Sum256([]byte(a.Key))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(tok))
		ok := subtle.ConstantTimeCompare(got[:], want[:]) == 1
		if ok && strings.EqualFold(scheme, "Bearer") {
			next.ServeHTTP(w, r)
			return
		}
		challenge := `Bearer realm="stills admin"`
		if r.Header.Get("Authorization") != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, a.Log, r, fmt.Errorf("%w: admin key required (Authorization: Bearer <key>)", ErrUnauthorized))
	})
}
