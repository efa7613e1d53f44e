package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelp: -h prints the usage and is not an error (exit 0); an unknown
// flag is one.
func TestHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-h"}, &stdout, &stderr); err != nil {
		t.Errorf("primectl -h = %v; want nil", err)
	}
	if !strings.Contains(stderr.String(), "-url") {
		t.Errorf("primectl -h printed %q; want the usage, with its flags", stderr.String())
	}
	if err := run(t.Context(), []string{"-nosuchflag"}, &stdout, &stderr); err == nil {
		t.Error("primectl -nosuchflag = nil; want an error")
	}
}
