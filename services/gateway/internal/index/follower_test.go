package index

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

func startBus(t *testing.T) jetstream.JetStream {
	t.Helper()
	n := testutil.StartNATS(t)
	if err := bus.EnsureStreams(testutil.Context(t), n.JS, bus.Options{}); err != nil {
		t.Fatal(err)
	}
	return n.JS
}

func publish(t *testing.T, js jetstream.JetStream, evs ...*stillsv1.ThumbnailStored) {
	t.Helper()
	for _, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(testutil.Context(t), bus.StoredSubject(ev.GetStream()), b); err != nil {
			t.Fatal(err)
		}
	}
}

// runFollower runs a follower until the returned stop is called.
func runFollower(t *testing.T, db *DB, js jetstream.JetStream, o FollowerOptions) (*Follower, func()) {
	t.Helper()
	f := NewFollower(db, js, o)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := f.Run(ctx); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	stop := func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return f, stop
}

func waitApplied(t *testing.T, db *DB, seq uint64) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() error {
		if got := db.LastApplied(); got != seq {
			return fmt.Errorf("applied %d, want %d", got, seq)
		}
		return nil
	})
}

func TestFollower_CatchesUpResumesAndGoesLive(t *testing.T) {
	js := startBus(t)
	for i := range 20 {
		publish(t, js, event("site/cam", base+int64(i)*3000))
	}
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var liveLatest []string
	f, stop := runFollower(t, db, js, FollowerOptions{OnApplied: func(res Result, live bool) {
		if live {
			mu.Lock()
			liveLatest = append(liveLatest, res.Latest...)
			mu.Unlock()
		}
	}})
	waitApplied(t, db, 20)
	testutil.Eventually(t, 5*time.Second, func() error {
		if !f.CaughtUp() {
			return fmt.Errorf("not caught up")
		}
		return nil
	})
	if f.Lag() != 0 {
		t.Errorf("lag %d after catching up", f.Lag())
	}
	f.seen(25) // as if THUMBS had moved on
	if f.Lag() != 5 {
		t.Errorf("lag %d, want 5", f.Lag())
	}
	publish(t, js, event("site/cam", base+60_000))
	waitApplied(t, db, 21)
	mu.Lock()
	if len(liveLatest) != 1 || liveLatest[0] != "site/cam" {
		t.Errorf("live latest %v", liveLatest)
	}
	mu.Unlock()
	stop()
	db.Close()

	// Restart on the same file: only the new messages are delivered.
	publish(t, js, event("site/cam", base+63_000), event("site/cam", base+66_000))
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, _ = runFollower(t, db, js, FollowerOptions{})
	waitApplied(t, db, 23)
	if got := f.Received(); got != 2 {
		t.Fatalf("received %d after restart, want 2 (no replay)", got)
	}
	times, _ := db.Range("site/cam", 0, base*2)
	if len(times) != 23 {
		t.Fatalf("%d entries", len(times))
	}
}

func TestFollower_SkipsBadMessages(t *testing.T) {
	js := startBus(t)
	ctx := testutil.Context(t)
	mustPub := func(subject string, data []byte) {
		if _, err := js.Publish(ctx, subject, data); err != nil {
			t.Fatal(err)
		}
	}
	mustPub(bus.StoredSubject("cam"), []byte{0xff, 0xff, 0xff}) // not protobuf
	other, _ := proto.Marshal(event("other", base))
	mustPub(bus.StoredSubject("cam"), other) // payload names another stream
	mustPub("stills.stored.bad_ZZ", other)   // undecodable subject token
	publish(t, js, event("cam", base))

	db := openTest(t)
	f, _ := runFollower(t, db, js, FollowerOptions{})
	waitApplied(t, db, 4)
	if names, _ := db.Streams(); len(names) != 1 || names[0] != "cam" {
		t.Fatalf("streams %v", names)
	}
	if !f.CaughtUp() {
		t.Fatal("not caught up")
	}
}

func TestFollower_EmptyStreamIsCaughtUp(t *testing.T) {
	js := startBus(t)
	db := openTest(t)
	f, _ := runFollower(t, db, js, FollowerOptions{})
	testutil.Eventually(t, 5*time.Second, func() error {
		if !f.CaughtUp() {
			return fmt.Errorf("not caught up")
		}
		return nil
	})
}

func TestFollower_StreamRecreatedReplays(t *testing.T) {
	js := startBus(t)
	db := openTest(t)
	// The index says 50 were applied, but THUMBS is new.
	if _, err := db.Apply([]Message{{Seq: 50}}); err != nil {
		t.Fatal(err)
	}
	publish(t, js, event("cam", base), event("cam", base+3000))
	runFollower(t, db, js, FollowerOptions{})
	waitApplied(t, db, 2)
	if times, _ := db.Range("cam", 0, base*2); len(times) != 2 {
		t.Fatalf("times %v", times)
	}
}

func TestFollower_RetriesUntilStreamExists(t *testing.T) {
	n := testutil.StartNATS(t)
	db := openTest(t)
	runFollower(t, db, n.JS, FollowerOptions{})
	if err := bus.EnsureStreams(testutil.Context(t), n.JS, bus.Options{}); err != nil {
		t.Fatal(err)
	}
	publish(t, n.JS, event("cam", base))
	waitApplied(t, db, 1)
}
