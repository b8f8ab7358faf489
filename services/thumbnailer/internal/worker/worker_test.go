package worker

import (
	"testing"
	"time"

	"github.com/stills-video/stills/pkg/bus"
)

func TestDefaultBackoff(t *testing.T) {
	last := bus.ThumbnailerBackoff[len(bus.ThumbnailerBackoff)-1]
	tests := []struct {
		delivered uint64
		want      time.Duration
	}{
		{0, bus.ThumbnailerBackoff[0]},
		{1, bus.ThumbnailerBackoff[0]},
		{2, bus.ThumbnailerBackoff[1]},
		{uint64(len(bus.ThumbnailerBackoff)), last},
		{1000, last},
	}
	for _, tc := range tests {
		if got := DefaultBackoff(tc.delivered); got != tc.want {
			t.Errorf("DefaultBackoff(%d) = %v, want %v", tc.delivered, got, tc.want)
		}
	}
}

func TestNewNeedsMetrics(t *testing.T) {
	if _, err := New(Config{}, nil, nil); err == nil {
		t.Fatal("New without metrics succeeded")
	}
}
