// Package live fans new thumbnails out to live viewers (preview.mjpeg). A
// frame is built once and shared by every subscriber of its stream; each
// subscriber has a small buffer, and one that falls behind is dropped
// (its channel closed) rather than buffered without bound.
package live

import (
	"strconv"
	"sync"
)

// Boundary separates the parts of a multipart/x-mixed-replace response.
const Boundary = "stillsframe"

// Opening starts a multipart/x-mixed-replace body. Each part then ends
// with the next boundary, so a client knows a picture is complete as soon
// as it arrives rather than when the next one starts.
const Opening = "--" + Boundary + "\r\n"

// Frame is one JPEG, with its part pre-rendered.
type Frame struct {
	TimeMs int64
	// Part is headers, JPEG, and the boundary after it.
	Part []byte
}

// NewFrame renders the part of a JPEG once.
func NewFrame(timeMs int64, jpeg []byte) *Frame {
	head := "Content-Type: image/jpeg\r\nContent-Length: " + strconv.Itoa(len(jpeg)) +
		"\r\nX-Timestamp: " + strconv.FormatInt(timeMs, 10) + "\r\n\r\n"
	tail := "\r\n" + Opening
	part := make([]byte, 0, len(head)+len(jpeg)+len(tail))
	part = append(part, head...)
	part = append(part, jpeg...)
	part = append(part, tail...)
	return &Frame{TimeMs: timeMs, Part: part}
}

// Buffer is the number of frames a subscriber may be behind.
const Buffer = 2

// Sub is one viewer. C is closed when the viewer was too slow or the hub
// closed.
type Sub struct {
	C      <-chan *Frame
	c      chan *Frame
	stream string
}

// Hub is the fan-out of every stream.
type Hub struct {
	mu      sync.Mutex
	subs    map[string]map[*Sub]struct{}
	closed  bool
	dropped uint64
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[string]map[*Sub]struct{}{}} }

// Subscribe adds a viewer of stream. After Close it returns a closed Sub.
func (h *Hub) Subscribe(stream string) *Sub {
	c := make(chan *Frame, Buffer)
	s := &Sub{C: c, c: c, stream: stream}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(c)
		return s
	}
	m := h.subs[stream]
	if m == nil {
		m = map[*Sub]struct{}{}
		h.subs[stream] = m
	}
	m[s] = struct{}{}
	return s
}

// Unsubscribe removes a viewer; it is a no-op for one already dropped.
func (h *Hub) Unsubscribe(s *Sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.remove(s)
}

func (h *Hub) remove(s *Sub) {
	m := h.subs[s.stream]
	if _, ok := m[s]; !ok {
		return
	}
	delete(m, s)
	if len(m) == 0 {
		delete(h.subs, s.stream)
	}
	close(s.c)
}

// Publish hands f to every viewer of stream without blocking; a viewer
// whose buffer is full is dropped.
func (h *Hub) Publish(stream string, f *Frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[stream] {
		select {
		case s.c <- f:
		default:
			h.remove(s)
			h.dropped++
		}
	}
}

// Viewers is the number of viewers of stream.
func (h *Hub) Viewers(stream string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[stream])
}

// Total is the number of viewers of all streams.
func (h *Hub) Total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.subs {
		n += len(m)
	}
	return n
}

// Dropped counts viewers dropped for being slow.
func (h *Hub) Dropped() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}

// Close ends every subscription; later ones start closed.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, m := range h.subs {
		for s := range m {
			h.remove(s)
		}
	}
}
