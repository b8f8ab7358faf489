package ingest

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := newBackoff(time.Second, 30*time.Second)
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for round := 0; round < 2; round++ {
		for i, w := range want {
			hi := w * time.Second
			if d := b.wait(); d < hi/2 || d > hi {
				t.Fatalf("round %d wait %d = %v, want in [%v, %v]", round, i, d, hi/2, hi)
			}
		}
		b.reset()
	}
	// Jitter: many waits at one level are not all the same.
	seen := map[time.Duration]bool{}
	for range 20 {
		b.reset()
		seen[b.wait()] = true
	}
	if len(seen) < 2 {
		t.Fatal("no jitter")
	}
}
