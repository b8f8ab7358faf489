package blob

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"cam1/2024/01/02/03/04/05.jpg", true},
		{"a", true},
		{".hidden/x", true},
		{"a/..b/c..", true},
		{strings.Repeat("k", MaxKeyLen), true},
		{"", false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"a/./b", false},
		{"..", false},
		{"a/../b", false},
		{`a\b`, false},
		{"a\x00", false},
		{"\xff", false},
		{strings.Repeat("k", MaxKeyLen+1), false},
		{"a/" + tmpPrefix + "x", false},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			err := ValidateKey(tc.key)
			if tc.ok && err != nil {
				t.Errorf("ValidateKey = %v, want nil", err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidKey) {
				t.Errorf("ValidateKey = %v, want ErrInvalidKey", err)
			}
		})
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "cam1", "cam1/", "cam1/.", "cam1/..", "a/b/c"} {
		if err := validatePrefix(p); err != nil {
			t.Errorf("validatePrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "a//", "../", "a/./b", `a\`, "\x00", strings.Repeat("k", MaxKeyLen+1)} {
		if err := validatePrefix(p); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("validatePrefix(%q) = %v, want ErrInvalidKey", p, err)
		}
	}
}
