package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

type sample struct {
	A        string        `env:"A"`
	Empty    string        `env:"EMPTY"`
	D        time.Duration `env:"D"`
	N        int           `env:"N"`
	Untagged int
}

type broken struct {
	Queue string        `env:"QUEUE_URL,required"`
	D     time.Duration `env:"BADD"`
	N     int           `env:"BADN"`
}

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoad(t *testing.T) {
	t.Parallel()
	env := lookup(map[string]string{"A": "x", "D": "90s", "BADD": "soon", "N": "4", "BADN": "-1", "EMPTY": "", "Untagged": "7"})
	got := sample{Empty: "def", D: time.Hour, Untagged: 1}
	if err := load(env, &got); err != nil {
		t.Fatalf("load = %v; want nil", err)
	}
	if want := (sample{A: "x", Empty: "def", D: 90 * time.Second, N: 4, Untagged: 1}); got != want {
		t.Errorf("load = %+v; want %+v", got, want)
	}

	err := load(env, &broken{})
	for _, name := range []string{"QUEUE_URL", "BADD", "BADN"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("load = %v; want it to name %s", err, name)
		}
	}
}

func TestVars(t *testing.T) {
	t.Parallel()
	if got, want := Vars(sample{}), []string{"A", "EMPTY", "D", "N"}; !slices.Equal(got, want) {
		t.Errorf("Vars = %v; want %v", got, want)
	}
}
