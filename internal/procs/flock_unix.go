//go:build unix

package procs

import (
	"os"
	"syscall"
)

// flock takes an exclusive lock on f without waiting; closing f drops it.
func flock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }
