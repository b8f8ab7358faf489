// Package auth checks play tokens (DESIGN §6): an HMAC-signed token bound to
// one stream and an expiry, and/or a Flussonic-style auth backend asked over
// HTTP whose decisions are cached briefly. Every doubt is a refusal.
package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxExpiryDigits bounds the expiry field (year 9999 has 12 digits).
const maxExpiryDigits = 12

// Sign returns the token for stream valid until expires:
// "<expires unix>-<hex HMAC-SHA256(key, "<expires>:<stream>")>".
func Sign(key []byte, stream string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "-" + hex.EncodeToString(mac(key, exp, stream))
}

func mac(key []byte, exp, stream string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(exp))
	m.Write([]byte{':'})
	m.Write([]byte(stream))
	return m.Sum(nil)
}

// Verify checks token against stream at now. The expiry must be plain
// decimal digits and the signature exactly 64 lowercase hex digits; the
// signature is compared in constant time before the expiry is looked at.
func Verify(key []byte, stream, token string, now time.Time) error {
	if token == "" {
		return ErrMissing
	}
	exp, sig, ok := strings.Cut(token, "-")
	if !ok || len(exp) == 0 || len(exp) > maxExpiryDigits || !isDigits(exp) || (len(exp) > 1 && exp[0] == '0') {
		return fmt.Errorf("%w: expiry", ErrMalformed)
	}
	if len(sig) != 2*sha256.Size || !isLowerHex(sig) {
		return fmt.Errorf("%w: signature", ErrMalformed)
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: signature", ErrMalformed)
	}
	if !hmac.Equal(got, mac(key, exp, stream)) {
		return ErrForged
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() >= n {
		return ErrExpired
	}
	return nil
}

// expiry is the expiry of a token that passed Verify.
func expiry(token string) (int64, error) {
	exp, _, _ := strings.Cut(token, "-")
	return strconv.ParseInt(exp, 10, 64)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
