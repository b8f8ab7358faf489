package live

import (
	"bytes"
	"testing"
)

func TestHub(t *testing.T) {
	h := NewHub()
	fast, slow, other := h.Subscribe("a"), h.Subscribe("a"), h.Subscribe("b")
	if h.Viewers("a") != 2 || h.Total() != 3 {
		t.Fatalf("viewers = %d, total %d", h.Viewers("a"), h.Total())
	}
	for i := range Buffer + 1 {
		f := NewFrame(int64(i), []byte("jpeg"))
		h.Publish("a", f)
		if got := <-fast.C; got != f {
			t.Fatalf("fast viewer got %v, want the shared frame", got)
		}
	}
	// slow never read: Buffer frames fit, the next one dropped it.
	n := 0
	for range slow.C {
		n++
	}
	if n != Buffer || h.Dropped() != 1 || h.Viewers("a") != 1 {
		t.Fatalf("slow viewer got %d frames before close (want %d), dropped %d, viewers %d", n, Buffer, h.Dropped(), h.Viewers("a"))
	}
	if len(other.C) != 0 {
		t.Fatal("a frame of stream a reached a viewer of b")
	}
	h.Unsubscribe(slow) // already dropped: no-op, no double close
	h.Unsubscribe(fast)
	if _, ok := <-fast.C; ok || h.Viewers("a") != 0 {
		t.Fatal("unsubscribed viewer still open")
	}
	h.Close()
	if _, ok := <-other.C; ok {
		t.Fatal("Close left a viewer open")
	}
	if _, ok := <-h.Subscribe("a").C; ok {
		t.Fatal("Subscribe after Close must be closed")
	}
}

func TestFrame(t *testing.T) {
	f := NewFrame(1500, []byte("JPEGDATA"))
	want := "Content-Type: image/jpeg\r\nContent-Length: 8\r\nX-Timestamp: 1500\r\n\r\nJPEGDATA\r\n--stillsframe\r\n"
	if !bytes.Equal(f.Part, []byte(want)) {
		t.Fatalf("part = %q", f.Part)
	}
}
