package testutil

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a child process started by StartProcess.
type Process struct {
	Name string
	// Grace is how long Stop waits after SIGTERM before it kills (10 s).
	Grace time.Duration
	cmd   *exec.Cmd
	out   *lockedBuffer
	done  chan struct{}
	err   error // exit status, set before done closes
}

// StartProcess runs bin with args as a child of the test, with env added
// to the test's environment (later entries win). Inherited STILLS_*
// variables (TEST_STILLS_BIN_DIR from make test, a developer's overrides) are
// dropped: the binaries read them as config overrides and refuse unknown
// ones, so a child sees only the STILLS_* in env. Its stdout and stderr
// are captured together; when the test fails the output is logged. At
// cleanup it is stopped (SIGTERM, then SIGKILL after a grace period).
func StartProcess(t testing.TB, name, bin string, args, env []string) *Process {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(childEnv(os.Environ()), env...)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("testutil: start %s: %v", name, err)
	}
	p := &Process{Name: name, Grace: 10 * time.Second, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("--- %s output:\n%s", name, p.Output())
		}
	})
	return p
}

// childEnv is environ without STILLS_* variables.
func childEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "STILLS_") {
			out = append(out, kv)
		}
	}
	return out
}

// Stop sends SIGTERM and waits for the process to exit, killing it after
// a grace period. It returns the exit error (nil for a clean exit, or
// when the process had already been stopped).
func (p *Process) Stop() error {
	if !p.Exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(p.Grace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	return p.ExitErr()
}

// Kill ends the process with SIGKILL (a crash) and waits for it.
func (p *Process) Kill() {
	if !p.Exited() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitErr is the process's exit error once it has exited (nil before,
// and for a zero exit status). An exit by SIGTERM counts as clean.
func (p *Process) ExitErr() error {
	if !p.Exited() {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return p.err
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output is everything the process wrote to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
