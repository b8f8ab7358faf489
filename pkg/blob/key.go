package blob

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the longest key a Store accepts, in bytes (S3 allows 1,024).
const MaxKeyLen = 1024

// tmpPrefix starts the names of Local's temporary files. A key segment
// may not start with it, so a temporary file is never a key.
const tmpPrefix = ".stills-tmp-"

// ValidateKey reports whether key can be stored: non-empty, at most
// MaxKeyLen bytes of UTF-8 without NUL or backslash, '/'-separated
// segments that are neither empty nor "." / "..". Such a key can never
// name a path outside a Local store's directory. The error wraps
// ErrInvalidKey.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if err := checkChars(key); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := checkSegment(key, seg); err != nil {
			return err
		}
	}
	return nil
}

// validatePrefix checks a List prefix: "" lists everything; otherwise
// every complete segment (before the last '/') follows ValidateKey's
// rules and the trailing partial segment is only matched as a string.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkChars(prefix); err != nil {
		return err
	}
	i := strings.LastIndexByte(prefix, '/')
	if i < 0 {
		return nil
	}
	for seg := range strings.SplitSeq(prefix[:i], "/") {
		if err := checkSegment(prefix, seg); err != nil {
			return err
		}
	}
	return nil
}

func checkChars(s string) error {
	switch {
	case len(s) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, over %d", ErrInvalidKey, len(s), MaxKeyLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %q is not UTF-8", ErrInvalidKey, s)
	case strings.ContainsRune(s, 0):
		return fmt.Errorf("%w: %q holds NUL", ErrInvalidKey, s)
	case strings.ContainsRune(s, '\\'):
		return fmt.Errorf("%w: %q holds a backslash", ErrInvalidKey, s)
	}
	return nil
}

func checkSegment(key, seg string) error {
	switch {
	case seg == "":
		return fmt.Errorf("%w: %q has an empty segment", ErrInvalidKey, key)
	case seg == "." || seg == "..":
		return fmt.Errorf("%w: %q has a %q segment", ErrInvalidKey, key, seg)
	case strings.HasPrefix(seg, tmpPrefix):
		return fmt.Errorf("%w: %q uses the reserved %q", ErrInvalidKey, key, tmpPrefix)
	}
	return nil
}
