// Package procs runs the helper programs the system leans on away from AWS
// — moto_server, the Lambda Runtime Interface Emulator — as child
// processes: each in its own process group, killed with everything it
// started, never outliving this process on Linux, with the end of its output
// kept for error messages. It also gives them loopback ports without the
// race of "pick a free port, close it, hand it to the child": a child that
// can inherit a listening socket gets one (see the emulator package); one
// that cannot gets a port reserved with ReservePort, and ListeningPorts
// tells whether the child itself, not some other process, listens on it.
//
// Tests, `make run-aws` and `make invoke` all use it, so it is not test
// support: it does not link package testing.
package procs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tailSize is how much of a child's output a Process keeps.
const tailSize = 4096

// Process is a running child process.
type Process struct {
	name     string
	cmd      *exec.Cmd
	out      *tail
	held     []io.Closer
	done     chan struct{} // closed once the process has exited and held is released
	waitErr  error         // valid once done is closed
	stopOnce sync.Once
	stopErr  error
}

// Start starts cmd in a process group of its own. Its standard output and
// error go where cmd says (nowhere if nil) and, their last few KiB, to
// Output. held are closed once the process has exited (or at once if it
// does not start): port reservations, for example. On Linux the kernel kills
// the child if this process dies without calling Stop.
func Start(cmd *exec.Cmd, held ...io.Closer) (*Process, error) {
	p := &Process{name: cmd.Path, cmd: cmd, out: &tail{max: tailSize}, held: held, done: make(chan struct{})}
	tee := func(w io.Writer) io.Writer {
		if w == nil {
			return p.out
		}
		return io.MultiWriter(w, p.out)
	}
	same := cmd.Stdout == cmd.Stderr
	cmd.Stdout = tee(cmd.Stdout)
	if same {
		cmd.Stderr = cmd.Stdout // one pipe, as os/exec does for equal writers
	} else {
		cmd.Stderr = tee(cmd.Stderr)
	}
	if cmd.WaitDelay == 0 {
		// A grandchild that keeps the output pipe open must not keep
		// Wait from returning once the child itself has exited.
		cmd.WaitDelay = time.Second
	}
	cmd.SysProcAttr = sysProcAttr()
	started := make(chan error, 1)
	go func() {
		// Linux sends the parent-death signal when the thread that started
		// the child exits, so keep that thread for as long as the child.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		p.release()
		close(p.done)
	}()
	if err := <-started; err != nil {
		p.release()
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	return p, nil
}

func (p *Process) release() {
	for _, c := range p.held {
		c.Close()
	}
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed once the process has exited, by itself or by Stop; Err
// then says how.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process exited (exec.Cmd.Wait's error) once Done is
// closed, and nil before.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.waitErr
}

// Output returns the end of what the process wrote to its standard output
// and error.
func (p *Process) Output() string { return p.out.String() }

// WaitReady calls ready, at growing intervals of up to 100 ms, until it
// reports true, the process exits, or ctx ends. The error of the last two
// includes the end of the process's output.
func (p *Process) WaitReady(ctx context.Context, ready func(context.Context) bool) error {
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		if ready(ctx) {
			return nil
		}
		timer := time.NewTimer(wait)
		select {
		case <-p.done:
			timer.Stop()
			return fmt.Errorf("%s exited (%v) before it was ready; its output ends:\n%s", p.name, p.waitErr, p.Output())
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%s was not ready: %w; its output ends:\n%s", p.name, context.Cause(ctx), p.Output())
		case <-timer.C:
		}
	}
}

// Stop kills the process and its process group and waits for it to exit.
// It returns an error if the process had already exited by itself. It may
// be called more than once.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		if p.Exited() {
			p.stopErr = fmt.Errorf("%s had exited: %v", p.name, p.waitErr)
			// What it started may still run.
			kill(p.cmd.Process)
			return
		}
		if err := kill(p.cmd.Process); err != nil && !errors.Is(err, syscall.ESRCH) {
			p.stopErr = fmt.Errorf("stop %s: %w", p.name, err)
		}
		<-p.done
	})
	return p.stopErr
}

// Terminate asks the process to stop (SIGTERM), waits up to grace for it to
// exit, then kills its process group as Stop does, whatever is left of it.
// A process that exited because it was asked to is not an error.
func (p *Process) Terminate(grace time.Duration) error {
	if p.cmd.Process.Signal(syscall.SIGTERM) == nil {
		select {
		case <-p.done:
			p.Stop()
			return nil
		case <-time.After(grace):
		}
	}
	return p.Stop()
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
