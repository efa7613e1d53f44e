//go:build !linux

package procs

import "errors"

// ListeningPorts is only implemented on Linux.
func ListeningPorts(pid int) (map[int]bool, error) { return nil, errors.ErrUnsupported }
