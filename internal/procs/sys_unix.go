//go:build unix && !linux

package procs

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group, so that Stop can
// kill everything it started.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// kill kills p's process group.
func kill(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }
