package samtemplate

import (
	"regexp"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/config"
)

// retentionEnv reads RESULT_RETENTION as every function does (config.Load
// into a time.Duration field).
type retentionEnv struct {
	Retention time.Duration `env:"RESULT_RETENTION"`
}

// TestResultRetention checks the ResultRetention parameter's
// AllowedPattern against config's parser, which every function runs on
// RESULT_RETENTION at start: a value CloudFormation lets through but config
// refuses stops every function. The two agree on each sample but the last
// few: the pattern refuses some forms config takes (harmless: the deploy
// stops with the ConstraintDescription), and takes two absurd ones config
// refuses, which a regular expression cannot tell (a duration under a
// nanosecond, one beyond 2,562,047 hours).
//
// Not parallel: it sets RESULT_RETENTION for config.Load.
func TestResultRetention(t *testing.T) {
	src := loaded(t).Source
	pattern, _ := dig(src, "Parameters", "ResultRetention", "AllowedPattern").(string)
	re, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatalf("ResultRetention AllowedPattern %q: %v", pattern, err)
	}
	tests := []struct {
		value           string
		pattern, config bool // accepted by each
	}{
		{"24h", true, true},
		{"90m", true, true},
		{"3600s", true, true},
		{"1h30m", true, true},
		{"0h30m", true, true},
		{"00h1m", true, true},
		{"0.5h", true, true},
		{"1.5h", true, true},
		{"1h0.5m", true, true},
		{"1h0m0s", true, true},
		{"0s1ns", true, true},
		{"250ms", true, true},
		{"10us", true, true},
		{"1ns", true, true},
		{"8760h", true, true},
		// Zero: config refuses it, so must the pattern.
		{"0s", false, false},
		{"0h", false, false},
		{"00h", false, false},
		{"0.0h", false, false},
		{"0.000m", false, false},
		{"0ms", false, false},
		{"0h0m0s", false, false},
		// Not durations.
		{"24", false, false},
		{"h", false, false},
		{"1d", false, false},
		{"-1h", false, false},
		{"24 h", false, false},
		{"1H", false, false},
		// Forms config takes and the pattern refuses: the deploy says why.
		{"+1h", false, true},
		{"1µs", false, true},
		{".5h", false, true},
		{"1.h", false, true},
		{"", false, true}, // config: unset, the default (24h)
		// Taken by the pattern, refused by config: below a nanosecond, and
		// past time.Duration's 292 years.
		{"0.1ns", true, false},
		{"3000000h", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Setenv("RESULT_RETENTION", tt.value)
			if got := re.MatchString(tt.value); got != tt.pattern {
				t.Errorf("AllowedPattern matches %q: %v; want %v", tt.value, got, tt.pattern)
			}
			err := config.Load(&retentionEnv{})
			if got := err == nil; got != tt.config {
				t.Errorf("config.Load with RESULT_RETENTION=%q: error %v; want accepted %v", tt.value, err, tt.config)
			}
		})
	}
	if def, _ := dig(src, "Parameters", "ResultRetention", "Default").(string); !re.MatchString(def) {
		t.Errorf("ResultRetention Default %q does not match its AllowedPattern", def)
	}
}
