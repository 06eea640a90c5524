package tablet

import (
	"log/slog"
	"os/exec"
	"runtime"
	"sync/atomic"
)

// process is a child started by spawn.
type process struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{} // closed once the child has exited and been reaped
	err  error         // cmd.Wait's error; read it only after done is closed
	// stopping is set before we signal the child, so its exit is logged as
	// expected rather than as a crash.
	stopping atomic.Bool
}

// spawn starts cmd on a goroutine of its own that stays locked to its OS
// thread until the child has exited.
//
// Why: the child is started with Pdeathsig (SIGKILL when the parent dies),
// and Linux sends that signal when the *thread* that forked the child
// exits, not the process. The Go runtime may end a thread whenever a
// goroutine that locked it exits without unlocking. Starting the child from
// a goroutine that holds its thread locked until the child is reaped means
// no other goroutine ever runs on that thread, so nothing can end it early
// and kill a healthy mariadbd; the signal then fires only when the whole
// process dies (crash, os.Exit, a test binary's timeout panic). Once the
// child is reaped the goroutine returns still locked and the runtime ends
// the thread, which no longer matters. The price is one OS thread per
// running child.
//
// The goroutine is owned by the process: it ends when the child exits,
// which Stop and Kill bring about. If log is not nil, the exit is logged
// there.
func spawn(cmd *exec.Cmd, log *slog.Logger) (*process, error) {
	setProcAttr(cmd)
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.pid = cmd.Process.Pid
		started <- nil
		err := cmd.Wait()
		p.err = err
		if log != nil {
			if p.stopping.Load() {
				log.Info("tablet: mariadbd exited", "pid", p.pid, "status", exitStatus(err))
			} else {
				log.Warn("tablet: mariadbd exited unexpectedly", "pid", p.pid, "status", exitStatus(err))
			}
		}
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// exited tells whether the child has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
