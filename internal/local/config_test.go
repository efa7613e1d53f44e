package local_test

import (
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/local"
)

// TestConfigFromEnvLogLevel: a LOG_LEVEL the logger cannot read stops the
// local mode with an error that names the variable, rather than logging at
// INFO as if it were not set. Not parallel: it sets the environment.
func TestConfigFromEnvLogLevel(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		wantErr string
	}{
		{name: "unset", value: ""},
		{name: "debug", value: "debug"},
		{name: "upper case", value: "WARN"},
		{name: "error", value: "error"},
		{name: "unknown", value: "verbose", wantErr: `environment variable LOG_LEVEL="verbose" is not one of debug, info, warn, error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LOG_LEVEL", tt.value)
			_, err := local.ConfigFromEnv()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ConfigFromEnv() with LOG_LEVEL=%q: got error %v; want none", tt.value, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ConfigFromEnv() with LOG_LEVEL=%q: got error %v; want %q", tt.value, err, tt.wantErr)
			}
		})
	}
}
