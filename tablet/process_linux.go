//go:build linux

package tablet

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts a child in a process group of its own, so a Ctrl-C in a
// terminal (SIGINT to the foreground group) reaches only shardgate, which
// then stops its children cleanly; and has the kernel SIGKILL the child if
// the thread that started it dies (see spawn), so a mariadbd never
// outlives a crashed shardgate or test binary.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup SIGKILLs a child started by spawn and every process in its
// group (mariadb-install-db is a script that runs mariadbd --bootstrap).
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
	}
}
