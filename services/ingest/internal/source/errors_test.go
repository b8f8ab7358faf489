package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

func TestUnreachable(t *testing.T) {
	_, dialErr := net.Dial("tcp", "127.0.0.1:1")
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", dialErr, true},
		{"wrapped refused", fmt.Errorf("rtsp: %w", syscall.ECONNREFUSED), true},
		{"EOF", fmt.Errorf("read: %w", io.EOF), true},
		{"tcp timeout", liberrors.ErrClientTCPTimeout{}, true},
		{"request timed out", liberrors.ErrClientRequestTimedOut{}, true},
		{"404", liberrors.ErrClientBadStatusCode{Code: base.StatusNotFound}, true},
		{"503", liberrors.ErrClientBadStatusCode{Code: base.StatusServiceUnavailable}, true},
		{"401", liberrors.ErrClientBadStatusCode{Code: base.StatusUnauthorized}, false},
		{"no video", fmt.Errorf("x: %w", ErrNoVideo), false},
		{"unsupported", ErrUnsupported, false},
		{"protocol garbage", errors.New("unable to parse response"), false},
		{"cancelled", context.Canceled, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "connection refused" && dialErr == nil {
				t.Skip("something listens on port 1")
			}
			if got := Unreachable(tc.err); got != tc.want {
				t.Fatalf("Unreachable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
