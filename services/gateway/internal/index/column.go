package index

import (
	"math"
	"slices"
	"sort"
	"sync"
)

// chunkMax is the most entries a chunk holds: an insert shifts at most
// this many offsets, a retention trim frees whole chunks.
const chunkMax = 2048

// chunk is a sorted run of entry times stored as offsets (ms) from base, 4
// bytes an entry. base is at most the first time; every time is within
// math.MaxUint32 ms (~49 days) of it.
type chunk struct {
	base int64
	off  []uint32
}

func (c *chunk) at(i int) int64 { return c.base + int64(c.off[i]) }
func (c *chunk) first() int64   { return c.at(0) }
func (c *chunk) last() int64    { return c.at(len(c.off) - 1) }

// fits reports whether ms can be stored in c.
func (c *chunk) fits(ms int64) bool { return ms >= c.base && ms-c.base <= math.MaxUint32 }

// search is the index of the first time ≥ ms in c.
func (c *chunk) search(ms int64) int {
	if ms < c.base {
		return 0
	}
	if ms-c.base > math.MaxUint32 {
		return len(c.off)
	}
	o := uint32(ms - c.base)
	i, _ := slices.BinarySearch(c.off, o)
	return i
}

// column is the in-memory time column of one stream: the keys of its bbolt
// bucket, in order, in chunks. bbolt stays the source of truth; the column
// answers which times exist so that time-only queries open no transaction.
type column struct {
	mu     sync.RWMutex
	chunks []*chunk // non-empty, ascending, not overlapping
	n      int
}

// pos is a position in a column: chunk ci, offset i.
type pos struct{ ci, i int }

// seek is the position of the first time ≥ ms (ci == len(chunks) at the end).
func (c *column) seek(ms int64) pos {
	ci := sort.Search(len(c.chunks), func(j int) bool { return c.chunks[j].last() >= ms })
	if ci == len(c.chunks) {
		return pos{ci, 0}
	}
	return pos{ci, c.chunks[ci].search(ms)}
}

func (c *column) valid(p pos) bool { return p.ci < len(c.chunks) }
func (c *column) at(p pos) int64   { return c.chunks[p.ci].at(p.i) }

// prev is the position before p; ok is false at the start.
func (c *column) prev(p pos) (pos, bool) {
	if p.i > 0 {
		return pos{p.ci, p.i - 1}, true
	}
	if p.ci == 0 {
		return p, false
	}
	return pos{p.ci - 1, len(c.chunks[p.ci-1].off) - 1}, true
}

// appendSorted adds ms after every stored time (the scan at open).
func (c *column) appendSorted(ms int64) {
	if k := len(c.chunks); k > 0 {
		if last := c.chunks[k-1]; len(last.off) < chunkMax && last.fits(ms) {
			last.off = append(last.off, uint32(ms-last.base))
			c.n++
			return
		}
	}
	off := make([]uint32, 1, chunkMax)
	c.chunks = append(c.chunks, &chunk{base: ms, off: off})
	c.n++
}

// insert adds ms in order; a time already present is left alone.
func (c *column) insert(ms int64) {
	if len(c.chunks) == 0 || ms > c.chunks[len(c.chunks)-1].last() {
		c.appendSorted(ms)
		return
	}
	p := c.seek(ms)
	ch := c.chunks[p.ci]
	if p.i < len(ch.off) && ch.at(p.i) == ms {
		return
	}
	c.n++
	if len(ch.off) < chunkMax && ch.fits(ms) {
		ch.off = slices.Insert(ch.off, p.i, uint32(ms-ch.base))
		return
	}
	// Full, or ms lies before base or too far from it: re-pack this
	// chunk's times (≤ chunkMax+1) into new chunks, half full when split.
	times := make([]int64, 0, len(ch.off)+1)
	for i := range ch.off {
		times = append(times, ch.at(i))
	}
	times = slices.Insert(times, p.i, ms)
	per := chunkMax
	if len(times) > chunkMax {
		per = (len(times) + 1) / 2
	}
	c.chunks = slices.Replace(c.chunks, p.ci, p.ci+1, pack(times, per)...)
}

// pack stores sorted times in chunks of at most per entries.
func pack(times []int64, per int) []*chunk {
	var out []*chunk
	for len(times) > 0 {
		ch := &chunk{base: times[0]}
		n := 0
		for n < len(times) && n < per && ch.fits(times[n]) {
			n++
		}
		ch.off = make([]uint32, n)
		for i, ms := range times[:n] {
			ch.off[i] = uint32(ms - ch.base)
		}
		out = append(out, ch)
		times = times[n:]
	}
	return out
}

// deleteRange removes the times in [from, to].
func (c *column) deleteRange(from, to int64) {
	if from > to {
		return
	}
	lo, hi := c.seek(from), pos{len(c.chunks), 0}
	if to < math.MaxInt64 {
		hi = c.seek(to + 1)
	}
	if !c.valid(lo) {
		return
	}
	if lo.ci == hi.ci {
		ch := c.chunks[lo.ci]
		c.n -= hi.i - lo.i
		ch.off = slices.Delete(ch.off, lo.i, hi.i)
		if len(ch.off) == 0 {
			c.chunks = slices.Delete(c.chunks, lo.ci, lo.ci+1)
		}
		return
	}
	// lo.ci < hi.ci: the head of lo's chunk stays, the chunks between go,
	// the tail of hi's chunk stays (moved down: its prefix is freed).
	first := c.chunks[lo.ci]
	c.n -= len(first.off) - lo.i
	first.off = first.off[:lo.i]
	for _, ch := range c.chunks[lo.ci+1 : min(hi.ci, len(c.chunks))] {
		c.n -= len(ch.off)
	}
	end := hi.ci
	if c.valid(hi) {
		ch := c.chunks[hi.ci]
		c.n -= hi.i
		ch.off = slices.Delete(ch.off, 0, hi.i)
		if len(ch.off) == 0 {
			end++
		}
	}
	start := lo.ci + 1
	if len(first.off) == 0 {
		start = lo.ci
	}
	c.chunks = slices.Delete(c.chunks, start, end)
}

// appendRange appends the times in [from, to] to dst.
func (c *column) appendRange(dst []int64, from, to int64) []int64 {
	for p := c.seek(from); c.valid(p); p = (pos{p.ci + 1, 0}) {
		ch := c.chunks[p.ci]
		for i := p.i; i < len(ch.off); i++ {
			ms := ch.at(i)
			if ms > to {
				return dst
			}
			dst = append(dst, ms)
		}
	}
	return dst
}

// atOrAfter is the first time ≥ ms.
func (c *column) atOrAfter(ms int64) (int64, bool) {
	p := c.seek(ms)
	if !c.valid(p) {
		return 0, false
	}
	return c.at(p), true
}

// nearest is the time closest to ms; on a tie the earlier one.
func (c *column) nearest(ms int64) (int64, bool) {
	a := c.seek(ms)
	b, hasB := c.prev(a)
	switch {
	case !c.valid(a) && !hasB:
		return 0, false
	case !c.valid(a):
		return c.at(b), true
	case !hasB:
		return c.at(a), true
	case ms-c.at(b) <= c.at(a)-ms:
		return c.at(b), true
	default:
		return c.at(a), true
	}
}

// bounds are the first and last times.
func (c *column) bounds() (first, last int64, ok bool) {
	if len(c.chunks) == 0 {
		return 0, 0, false
	}
	return c.chunks[0].first(), c.chunks[len(c.chunks)-1].last(), true
}

// bytes is the memory the column holds (offsets by capacity, chunk headers).
func (c *column) bytes() int64 {
	const chunkHeader = 8 + 24 + 8 // base, slice header, pointer
	var n int64
	for _, ch := range c.chunks {
		n += int64(cap(ch.off))*4 + chunkHeader
	}
	return n + int64(cap(c.chunks)-len(c.chunks))*8
}
