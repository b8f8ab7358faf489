package ingest

import (
	"math/rand/v2"
	"time"
)

// backoff is a capped exponential back-off with jitter: the n-th wait is
// uniform in [d/2, d] with d = min·2ⁿ capped at max.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

func newBackoff(lo, hi time.Duration) *backoff { return &backoff{min: lo, max: hi, next: lo} }

// wait returns the next delay and doubles the one after.
func (b *backoff) wait() time.Duration {
	d := b.next
	b.next = min(b.next*2, b.max)
	return d/2 + rand.N(d/2+1)
}

// reset starts over from min (after a session that worked).
func (b *backoff) reset() { b.next = b.min }
