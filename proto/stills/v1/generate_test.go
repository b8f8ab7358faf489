package stillsv1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsFresh regenerates stills.pb.go from stills.proto with
// protoc and the pinned protoc-gen-go and fails when the committed file
// differs (the protoc version line of the header aside).
func TestGeneratedCodeIsFresh(t *testing.T) {
	root := repoRoot(t)
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Fatal("protoc not found in PATH; run deploy/setup.sh")
	}
	plugin := filepath.Join(root, ".tools", "bin", "protoc-gen-go")
	if _, err := os.Stat(plugin); err != nil {
		t.Fatalf("protoc-gen-go not installed (%v); run deploy/setup.sh", err)
	}
	out := t.TempDir()
	cmd := exec.Command(protoc, "-I", filepath.Join(root, "proto"),
		"--plugin=protoc-gen-go="+plugin,
		"--go_out="+out, "--go_opt=paths=source_relative",
		"stills/v1/stills.proto")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, msg)
	}
	fresh, err := os.ReadFile(filepath.Join(out, "stills", "v1", "stills.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(root, "proto", "stills", "v1", "stills.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(withoutProtocVersion(fresh), withoutProtocVersion(committed)) {
		t.Fatal("proto/stills/v1/stills.pb.go is stale or edited by hand: run make proto")
	}
}

// withoutProtocVersion drops the generated header's "// \tprotoc vX"
// line: machines with another protoc build produce the same code.
func withoutProtocVersion(src []byte) []byte {
	lines := bytes.SplitAfter(src, []byte("\n"))
	kept := lines[:0]
	for _, l := range lines {
		if !bytes.HasPrefix(l, []byte("// \tprotoc ")) {
			kept = append(kept, l)
		}
	}
	return bytes.Join(kept, nil)
}

func TestWithoutProtocVersion(t *testing.T) {
	tests := []struct{ a, b string }{
		{"// versions:\n// \tprotoc-gen-go v1.36.12\n// \tprotoc        v3.21.12\npackage x\n",
			"// versions:\n// \tprotoc-gen-go v1.36.12\n// \tprotoc        v5.29.3\npackage x\n"},
		{"a\n// \tprotoc (unknown)\nb", "a\nb"},
	}
	for _, tc := range tests {
		if got, want := withoutProtocVersion([]byte(tc.a)), withoutProtocVersion([]byte(tc.b)); !bytes.Equal(got, want) {
			t.Errorf("%q and %q differ after dropping the protoc line: %q vs %q", tc.a, tc.b, got, want)
		}
	}
	// Everything else still counts, the protoc-gen-go version included.
	if bytes.Equal(withoutProtocVersion([]byte("// \tprotoc-gen-go v1.36.12\n")), withoutProtocVersion([]byte("// \tprotoc-gen-go v1.36.11\n"))) {
		t.Error("protoc-gen-go version change ignored")
	}
	if bytes.Equal(withoutProtocVersion([]byte("x int\n")), withoutProtocVersion([]byte("x int64\n"))) {
		t.Error("code change ignored")
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.work not found above the working directory")
		}
		dir = parent
	}
}
