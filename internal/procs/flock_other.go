//go:build !unix

package procs

import "os"

// flock does nothing here: reservations rest on the bind probe alone.
func flock(*os.File) error { return nil }
