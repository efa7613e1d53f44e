package main

import (
	"strings"
	"testing"
)

// TestMissingConfigurationNamesTheVariable: the function stops at start,
// before any AWS call, with an error that names what is missing.
func TestMissingConfigurationNamesTheVariable(t *testing.T) {
	t.Setenv("TABLE_NAME", "")
	t.Setenv("QUEUE_URL", "")
	t.Setenv("MAX_RECEIVE_COUNT", "many")
	err := run()
	if err == nil || !strings.Contains(err.Error(), "TABLE_NAME") || !strings.Contains(err.Error(), "MAX_RECEIVE_COUNT") {
		t.Fatalf("run() = %v; want an error naming TABLE_NAME and MAX_RECEIVE_COUNT", err)
	}
}
