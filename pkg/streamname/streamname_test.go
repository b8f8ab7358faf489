package streamname

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"cam1", true},
		{"site-a/floor_2/cam.01", true},
		{"A.B", true},
		{"", false},
		{"/cam", false},
		{"cam/", false},
		{"a//b", false},
		{"a/../b", false},
		{"..", false},
		{".", false},
		{"a/./b", false},
		{"cam 1", false},
		{"cam%2F", false},
		{"cam\x00", false},
		{"cam>", false},
		{"cam*", false},
		{"kamera\u00e9", false},
		{strings.Repeat("a", MaxLen), true},
		{strings.Repeat("a", MaxLen+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.name)
			if tc.ok && err != nil {
				t.Fatalf("Validate(%q) = %v, want nil", tc.name, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate(%q) = %v, want ErrInvalid", tc.name, err)
			}
		})
	}
}

func TestTokenRoundTrip(t *testing.T) {
	seen := map[string]string{}
	for _, name := range []string{"cam1", "a/b", "a.b", "a_b", "a_2Fb", "a_2F", "_", "a-b/c_d.e", "x/_2E/y"} {
		tok := Token(name)
		if strings.ContainsAny(tok, "./*> \t") {
			t.Fatalf("Token(%q) = %q holds a subject metacharacter", name, tok)
		}
		if other, dup := seen[tok]; dup {
			t.Fatalf("Token(%q) = Token(%q) = %q", name, other, tok)
		}
		seen[tok] = name
		back, err := FromToken(tok)
		if err != nil || back != name {
			t.Fatalf("FromToken(Token(%q)) = %q, %v", name, back, err)
		}
	}
}

func TestFromTokenRefuses(t *testing.T) {
	for _, tok := range []string{"", "a_", "a_2", "a_ZZ", "_2E_2E", "a_2F_2Fb", "a b", "a.b", "a/b"} {
		if _, err := FromToken(tok); !errors.Is(err, ErrInvalid) {
			t.Errorf("FromToken(%q) = %v, want ErrInvalid", tok, err)
		}
	}
}

func FuzzToken(f *testing.F) {
	for _, s := range []string{"cam1", "a/b", "a_2Fb", "..", "a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if Validate(name) != nil {
			return
		}
		back, err := FromToken(Token(name))
		if err != nil || back != name {
			t.Fatalf("round trip of %q: %q, %v", name, back, err)
		}
	})
}
