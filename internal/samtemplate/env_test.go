package samtemplate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEnvironment wants each function's environment in the template to be
// exactly the variables its main package reads.
func TestEnvironment(t *testing.T) {
	t.Parallel()
	tmpl := loaded(t).Transformed
	for fn, dir := range Functions {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			reads, err := EnvReads(filepath.Join(root, dir))
			if err != nil {
				t.Fatalf("find the variables %s reads: %v", dir, err)
			}
			if len(reads) == 0 {
				t.Fatalf("%s reads no environment variable through internal/config or os.Getenv; want its configuration read in main", dir)
			}
			vars, _ := dig(tmpl.Properties(fn), "Environment", "Variables").(map[string]any)
			var set []string
			for k := range vars {
				if !EndpointVariables[k] { // the SDK reads them; see TestEndpointVariable
					set = append(set, k)
				}
			}
			slices.Sort(set)
			if !slices.Equal(reads, set) {
				t.Errorf("%s reads %v; template.yaml sets %v for %s; want the same names", dir, reads, set, fn)
			}
		})
	}
}

// TestEnvReads runs EnvReads on main packages written for the test.
func TestEnvReads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		want    []string
		wantErr string
	}{
		{
			name: "config reader, os and constants",
			files: map[string]string{"main.go": `package main

import (
	sys "os"
	"strings"

	"github.com/asyncprime/asyncprime/internal/config"
)

const queueVar = "QUEUE_URL"

func main() {
	env := config.FromOS()
	_ = env.Required("TABLE_NAME")
	_ = env.Required(queueVar)
	_ = env.Duration("RESULT_RETENTION", 0)
	_ = env.Int("MAX_RECEIVE_COUNT", 5)
	_ = env.String("LOG_FORMAT", "json")
	_ = sys.Getenv("DEBUG_ADDR")
	_, _ = sys.LookupEnv("AWS_REGION")
	var b strings.Builder
	_ = b.String()
	_ = strings.Repeat("x", 2)
}
`},
			want: []string{"DEBUG_ADDR", "LOG_FORMAT", "MAX_RECEIVE_COUNT", "QUEUE_URL", "RESULT_RETENTION", "TABLE_NAME"},
		},
		{
			name: "tests and other platforms are not the Lambda build",
			files: map[string]string{
				"main.go":         "package main\n\nimport \"os\"\n\nfunc main() { _ = os.Getenv(\"TABLE_NAME\") }\n",
				"main_test.go":    "package main\n\nimport \"os\"\n\nvar _ = os.Getenv(\"TEST_ONLY\")\n",
				"main_windows.go": "package main\n\nimport \"os\"\n\nvar _ = os.Getenv(\"WINDOWS_ONLY\")\n",
			},
			want: []string{"TABLE_NAME"},
		},
		{
			name:    "a name os.Getenv gets from a variable",
			files:   map[string]string{"main.go": "package main\n\nimport \"os\"\n\nvar name = \"X\"\n\nfunc main() { _ = os.Getenv(name) }\n"},
			wantErr: "not a string constant",
		},
		{
			name:    "no Go files",
			files:   map[string]string{"README": "nothing here\n"},
			wantErr: "has no Go files",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, src := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := EnvReads(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("EnvReads: got error %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("EnvReads: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("EnvReads: got %v; want %v", got, tt.want)
			}
		})
	}
}
