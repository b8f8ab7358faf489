package cli

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stills-video/stills/pkg/config"
)

func TestMain_ConfigErrorsExit2(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("streams: [{name: '..', url: 'fake://a'}]"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", bad}, "streams[0].name"},
		{[]string{"--config", filepath.Join(t.TempDir(), "none.yaml")}, "no such file"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		var out strings.Builder
		called := false
		code := Main("x", tc.args, &out, func(context.Context, config.Config, *slog.Logger) error { called = true; return nil })
		if code != ExitConfig || called || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: code %d called %v output %q", tc.args, code, called, out.String())
		}
	}
}

func TestMain_RunResult(t *testing.T) {
	var out strings.Builder
	if code := Main("x", nil, &out, func(_ context.Context, cfg config.Config, _ *slog.Logger) error {
		if cfg.HTTP.Listen != config.DefaultListen {
			t.Errorf("defaults not loaded: %+v", cfg.HTTP)
		}
		return nil
	}); code != ExitOK {
		t.Fatalf("code %d", code)
	}
	if code := Main("x", nil, &out, func(context.Context, config.Config, *slog.Logger) error { return errors.New("boom") }); code != ExitFailed {
		t.Fatalf("failing run: code %d", code)
	}
	if code := Main("x", nil, &out, func(context.Context, config.Config, *slog.Logger) error { return context.Canceled }); code != ExitOK {
		t.Fatalf("cancelled run: code %d", code)
	}
	if !strings.Contains(out.String(), "boom") {
		t.Fatalf("error not logged: %q", out.String())
	}
}
