package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/testutil"
)

func TestSubjects(t *testing.T) {
	for _, name := range []string{"cam1", "site.a/floor_2/cam-3"} {
		for _, subj := range []string{bus.SegmentSubject(name), bus.StoredSubject(name), bus.DeadSubject(name)} {
			got, err := bus.StreamFromSubject(subj)
			if err != nil || got != name {
				t.Fatalf("StreamFromSubject(%q) = %q, %v", subj, got, err)
			}
		}
	}
	for _, bad := range []string{"stills.other.cam", "stills.segment.a_2Fb.c", "stills.segment._2E_2E", "x"} {
		if _, err := bus.StreamFromSubject(bad); err == nil {
			t.Errorf("StreamFromSubject(%q) accepted", bad)
		}
	}
	if bus.MsgID("a/b", 1700000000123) != "a/b@1700000000123" {
		t.Fatal(bus.MsgID("a/b", 1700000000123))
	}
}

func TestEnsureStreamsAndConsumer(t *testing.T) {
	n := testutil.StartNATS(t)
	ctx := testutil.Context(t)
	for i := 0; i < 2; i++ { // idempotent
		if err := bus.EnsureStreams(ctx, n.JS, bus.Options{ThumbsMaxAge: 72 * time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := n.JS.Stream(ctx, bus.StreamSegments)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.CachedInfo().Config; c.Retention != jetstream.WorkQueuePolicy || c.MaxMsgSize != 8<<20 || c.Duplicates != 2*time.Minute {
		t.Fatalf("SEGMENTS config %+v", c)
	}
	th, err := n.JS.Stream(ctx, bus.StreamThumbs)
	if err != nil || th.CachedInfo().Config.MaxAge != 72*time.Hour {
		t.Fatalf("THUMBS: %v", err)
	}
	c, err := bus.ThumbnailerConsumer(ctx, n.JS)
	if err != nil {
		t.Fatal(err)
	}
	if ci := c.CachedInfo().Config; ci.MaxDeliver != len(bus.ThumbnailerBackoff)+1 || ci.AckPolicy != jetstream.AckExplicitPolicy {
		t.Fatalf("consumer %+v", ci)
	}

	// Dedup by Nats-Msg-Id: the same segment published twice is stored once.
	for i := 0; i < 2; i++ {
		if _, err := n.JS.Publish(ctx, bus.SegmentSubject("a/b"), []byte("x"), jetstream.WithMsgID(bus.MsgID("a/b", 1))); err != nil {
			t.Fatal(err)
		}
	}
	info, err := s.Info(ctx)
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("msgs after duplicate publish: %v %v", info, err)
	}
	// A message over MaxMsgSize is refused by the server, not dropped silently.
	big := make([]byte, 9<<20)
	if _, err := n.JS.Publish(ctx, bus.SegmentSubject("a"), big); err == nil {
		t.Fatal("9 MiB event accepted")
	}
}

func TestEnsureStreamsCancelled(t *testing.T) {
	n := testutil.StartNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := bus.EnsureStreams(ctx, n.JS, bus.Options{}); err == nil {
		t.Fatal("EnsureStreams with a cancelled context succeeded")
	}
}

func TestConnectFails(t *testing.T) {
	if _, err := bus.Connect("nats://127.0.0.1:1", "t", nil); err == nil {
		t.Fatal("connect to a closed port succeeded")
	}
}
