package samtemplate

import (
	"slices"
	"testing"

	"github.com/asyncprime/asyncprime/internal/config"
)

// envs maps each function's logical id to the struct its main package loads
// its environment into.
var envs = map[string]any{
	"SubmitFunction": config.Submit{},
	"WorkerFunction": config.Worker{},
	"StatusFunction": config.Status{},
	// The same binary as WorkerFunction.
	"BigWorkerFunction":  config.Worker{},
	"DeadLetterFunction": config.DeadLetter{},
}

// TestEnvironment wants each function's environment in the template to be
// exactly the variables its main package reads.
func TestEnvironment(t *testing.T) {
	t.Parallel()
	tmpl := loaded(t).Transformed
	for fn := range Functions {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			cfg, ok := envs[fn]
			if !ok {
				t.Fatalf("no config struct for %s", fn)
			}
			reads := slices.Sorted(slices.Values(config.Vars(cfg)))
			vars, _ := dig(tmpl.Properties(fn), "Environment", "Variables").(map[string]any)
			var set []string
			for k := range vars {
				if !EndpointVariables[k] { // the SDK reads them; see TestEndpointVariable
					set = append(set, k)
				}
			}
			slices.Sort(set)
			if !slices.Equal(reads, set) {
				t.Errorf("%s reads %v (%T); template.yaml sets %v; want the same names", fn, reads, cfg, set)
			}
		})
	}
}
