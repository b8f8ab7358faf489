package testutil

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fatalTB records the first Fatalf instead of failing the real test.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fatalTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

// fatalOf runs fn with a fatalTB and returns the Fatalf message ("" if
// fn returned normally).
func fatalOf(t *testing.T, fn func(tb testing.TB)) string {
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg
}

func TestProcess(t *testing.T) {
	sh := "/bin/sh"
	tests := []struct {
		name    string
		script  string
		stop    func(p *Process) error
		wantOut string
		wantErr string
	}{
		{"exits 0", "echo out; echo err >&2", func(p *Process) error { <-p.Done(); return p.ExitErr() }, "out\nerr\n", ""},
		{"exit status", "exit 3", func(p *Process) error { <-p.Done(); return p.ExitErr() }, "", "exit status 3"},
		{"env", `echo "$STILLS_X$STILLS_INHERITED"`, func(p *Process) error { <-p.Done(); return p.ExitErr() }, "hello\n", ""},
		{"stopped by SIGTERM", "echo up; exec sleep 60", func(p *Process) error { waitOutput(t, p, "up"); return p.Stop() }, "up\n", ""},
		{"killed after grace", "trap '' TERM; echo up; while :; do sleep 0.05; done", func(p *Process) error {
			waitOutput(t, p, "up")
			p.Grace = 100 * time.Millisecond
			return p.Stop()
		}, "up\n", "signal: killed"},
		{"Kill", "echo up; exec sleep 60", func(p *Process) error { waitOutput(t, p, "up"); p.Kill(); return p.ExitErr() }, "up\n", "signal: killed"},
	}
	t.Setenv("STILLS_INHERITED", "leaked")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := StartProcess(t, "sh", sh, []string{"-c", tc.script}, []string{"STILLS_X=hello"})
			if p.Pid() <= 0 {
				t.Errorf("Pid = %d", p.Pid())
			}
			err := tc.stop(p)
			if got := fmt.Sprint(err); (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && !strings.Contains(got, tc.wantErr)) {
				t.Errorf("exit error = %v, want %q", err, tc.wantErr)
			}
			if !p.Exited() {
				t.Error("Exited() = false after exit")
			}
			if got := p.Output(); got != tc.wantOut {
				t.Errorf("Output = %q, want %q", got, tc.wantOut)
			}
			if err := p.Stop(); fmt.Sprint(err) != fmt.Sprint(p.ExitErr()) {
				t.Errorf("second Stop = %v, want the exit error again", err)
			}
		})
	}
}

func TestProcessRunningExitErr(t *testing.T) {
	p := StartProcess(t, "sh", "/bin/sh", []string{"-c", "exec sleep 60"}, nil)
	if p.Exited() || p.ExitErr() != nil {
		t.Errorf("running process: Exited %v, ExitErr %v", p.Exited(), p.ExitErr())
	}
}

func TestStartProcessMissingBinary(t *testing.T) {
	msg := fatalOf(t, func(tb testing.TB) {
		StartProcess(tb, "nope", "/nonexistent/stills-nope", nil, nil)
	})
	if !strings.Contains(msg, "start nope") {
		t.Errorf("Fatalf message = %q, want a start failure", msg)
	}
}

func waitOutput(t *testing.T, p *Process, s string) {
	t.Helper()
	Eventually(t, 5*time.Second, func() error {
		if !strings.Contains(p.Output(), s) {
			return Errorf("output %q lacks %q", p.Output(), s)
		}
		return nil
	})
}
