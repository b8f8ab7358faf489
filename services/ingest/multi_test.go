package ingest_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/testutil"
	"github.com/stills-video/stills/services/ingest"
)

// ingestBinary is $TEST_STILLS_BIN_DIR/stills-ingest (make test builds
// it) or a fresh build into a temp dir.
func ingestBinary(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("TEST_STILLS_BIN_DIR"); dir != "" {
		bin := filepath.Join(dir, "stills-ingest")
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("TEST_STILLS_BIN_DIR: %v (run make build)", err)
		}
		return bin
	}
	bin := filepath.Join(t.TempDir(), "stills-ingest")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/stills-ingest")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// origins records which ingest published each event, from the
// Stills-Ingest header.
type origins struct {
	mu     sync.Mutex
	events []origin
}

type origin struct {
	stream, ingest string
	at             time.Time
}

func (o *origins) add(m *nats.Msg) {
	name, err := bus.StreamFromSubject(m.Subject)
	if err != nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, origin{name, m.Header.Get(ingest.HeaderIngest), time.Now()})
}

// since returns, per stream, the set of ingests that published after t.
func (o *origins) since(t time.Time) map[string]map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]map[string]int{}
	for _, e := range o.events {
		if e.at.Before(t) {
			continue
		}
		if out[e.stream] == nil {
			out[e.stream] = map[string]int{}
		}
		out[e.stream][e.ingest]++
	}
	return out
}

// Three ingest processes share six streams: one ingest per stream; when
// one is killed, its streams move to the survivors within seconds, and
// again one ingest per stream.
func TestThreeIngests(t *testing.T) {
	t.Parallel()
	bin := ingestBinary(t)
	n := testutil.StartNATS(t)
	var names []string
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "nats: {url: %q}\nstreams:\n", n.URL)
	for i := range 6 {
		name := fmt.Sprintf("cam/%d", i)
		names = append(names, name)
		fmt.Fprintf(&yaml, "  - {name: %s, url: 'fake://c%d', segment_duration: 1s}\n", name, i)
	}
	cfgPath := filepath.Join(t.TempDir(), "ingest.yaml")
	testutil.Must(t, os.WriteFile(cfgPath, []byte(yaml.String()), 0o644))

	o := &origins{}
	sub, err := n.Conn.Subscribe("stills.segment.>", o.add)
	testutil.Must(t, err)
	t.Cleanup(func() { sub.Unsubscribe() })

	procs := map[string]*testutil.Process{}
	for i := range 3 {
		id := fmt.Sprintf("ingest-%d", i)
		procs[id] = testutil.StartProcess(t, id, bin, []string{"--config", cfgPath, "--instance", id, "--lease-ttl", "2s"}, nil)
	}

	// exclusive waits until, over the last window, every live stream has
	// events and each from one ingest only; it returns the owners.
	exclusive := func(what string, alive func(string) bool) map[string]string {
		t.Helper()
		var owners map[string]string
		testutil.Eventually(t, 20*time.Second, func() error {
			by := o.since(time.Now().Add(-3 * time.Second))
			owners = map[string]string{}
			for _, name := range names {
				if len(by[name]) != 1 {
					return testutil.Errorf("%s: %s published by %v", what, name, by[name])
				}
				for id := range by[name] {
					if !alive(id) {
						return testutil.Errorf("%s: %s published by dead %s", what, name, id)
					}
					owners[name] = id
				}
			}
			return nil
		})
		return owners
	}
	all := func(string) bool { return true }
	owners := exclusive("steady state", all)
	held := map[string][]string{}
	for name, id := range owners {
		held[id] = append(held[id], name)
	}
	t.Logf("owners: %v", held)

	// Kill -9 the ingest with the most streams.
	victim := ""
	for id, ss := range held {
		if victim == "" || len(ss) > len(held[victim]) {
			victim = id
		}
	}
	procs[victim].Kill()
	killed := time.Now()
	testutil.Eventually(t, 10*time.Second, func() error {
		by := o.since(killed)
		for _, name := range held[victim] {
			if len(by[name]) == 0 || by[name][victim] > 0 && len(by[name]) == 1 {
				return testutil.Errorf("%s: no events from a survivor yet (%v)", name, by[name])
			}
		}
		return nil
	})
	t.Logf("streams of %s moved in %v", victim, time.Since(killed).Round(100*time.Millisecond))

	// Settled: one live ingest per stream over a full window with no
	// event of the dead one.
	owners = exclusive("after the handover", func(id string) bool { return id != victim })
	var after []string
	for name, id := range owners {
		after = append(after, name+"="+id)
	}
	sort.Strings(after)
	t.Logf("owners after: %v", after)
}
