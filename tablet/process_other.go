//go:build !linux

package tablet

import "os/exec"

// setProcAttr does nothing where Pdeathsig does not exist: there a
// mariadbd can outlive a crashed parent.
func setProcAttr(cmd *exec.Cmd) {}

// killGroup kills the child (not its group).
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
