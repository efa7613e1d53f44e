package config

import (
	"strings"
	"testing"
	"time"
)

func TestEnv(t *testing.T) {
	t.Parallel()
	e := FromMap(map[string]string{"A": "x", "D": "90s", "BADD": "soon", "N": "4", "BADN": "-1", "EMPTY": ""})
	if got := e.String("A", "def"); got != "x" {
		t.Errorf("String(A) = %q; want x", got)
	}
	if got := e.String("EMPTY", "def"); got != "def" {
		t.Errorf("String(EMPTY) = %q; want def", got)
	}
	if got := e.Duration("D", time.Hour); got != 90*time.Second {
		t.Errorf("Duration(D) = %v; want 90s", got)
	}
	if got := e.Int("N", 1); got != 4 {
		t.Errorf("Int(N) = %d; want 4", got)
	}
	if e.Err() != nil {
		t.Fatalf("Err = %v; want nil", e.Err())
	}
	e.Required("QUEUE_URL")
	e.Duration("BADD", time.Hour)
	e.Int("BADN", 1)
	err := e.Err()
	for _, name := range []string{"QUEUE_URL", "BADD", "BADN"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Err = %v; want it to name %s", err, name)
		}
	}
}
