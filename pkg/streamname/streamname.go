// Package streamname validates stream names and encodes them into NATS
// subject tokens and back.
//
// A stream name is one or more '/'-separated segments of [A-Za-z0-9._-],
// none of them "." or "..", at most 200 bytes (DESIGN §3). The same check
// runs at every boundary: config, admin API, URL and event.
package streamname

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLen is the longest accepted stream name, in bytes.
const MaxLen = 200

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid stream name")

// Validate reports whether name is an acceptable stream name.
func Validate(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(name) > MaxLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxLen)
	}
	for _, seg := range strings.Split(name, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: empty path segment", ErrInvalid)
		case ".", "..":
			return fmt.Errorf("%w: %q segment", ErrInvalid, seg)
		}
		for i := 0; i < len(seg); i++ {
			if !allowed(seg[i]) {
				return fmt.Errorf("%w: character %q not allowed", ErrInvalid, seg[i])
			}
		}
	}
	return nil
}

func allowed(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// Token encodes a valid stream name as one NATS subject token. Letters,
// digits and '-' pass through; '.', '/' and '_' become "_2E", "_2F", "_5F".
// The encoding is reversible and keeps distinct names distinct.
func Token(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 8)
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '.':
			b.WriteString("_2E")
		case '/':
			b.WriteString("_2F")
		case '_':
			b.WriteString("_5F")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FromToken decodes a subject token made by Token and validates the result.
func FromToken(tok string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c != '_' {
			if c == '.' || c == '/' || !allowed(c) {
				return "", fmt.Errorf("%w: character %q not allowed in token %q", ErrInvalid, c, tok)
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(tok) {
			return "", fmt.Errorf("%w: truncated escape in token %q", ErrInvalid, tok)
		}
		switch tok[i+1 : i+3] {
		case "2E":
			b.WriteByte('.')
		case "2F":
			b.WriteByte('/')
		case "5F":
			b.WriteByte('_')
		default:
			return "", fmt.Errorf("%w: bad escape in token %q", ErrInvalid, tok)
		}
		i += 2
	}
	name := b.String()
	if err := Validate(name); err != nil {
		return "", err
	}
	return name, nil
}
