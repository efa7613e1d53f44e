package samlocal_test

import (
	"os"
	"testing"

	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/samlocal"
)

// TestEnvJSON: the env.json shipped for sam local is the file the trigger
// writes for the resources `make sam-local` creates on its moto.
func TestEnvJSON(t *testing.T) {
	t.Parallel()
	shipped, err := os.ReadFile("../../env.json")
	if err != nil {
		t.Fatal(err)
	}
	// moto names the queue with the host the client used.
	created := provision.Resources{QueueURL: "http://127.0.0.1:5050/123456789012/asyncprime-tasks", DeadLetterQueueURL: "http://127.0.0.1:5050/123456789012/asyncprime-tasks-dlq", TableName: "asyncprime-tasks"}
	f, err := samlocal.NewEnvFile(created, samlocal.ContainerEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(shipped) != string(want) {
		t.Errorf("env.json is\n%s\nwant what make sam-local writes:\n%s", shipped, want)
	}
}

// TestResolve checks the model of sam local's environment rules.
func TestResolve(t *testing.T) {
	t.Parallel()
	params := map[string]any{"ResultRetention": "24h", "MaxReceiveCount": "5", "EndpointUrl": ""}
	noValue := map[string]any{"Fn::If": []any{"HasEndpointUrl", map[string]any{"Ref": "EndpointUrl"}, map[string]any{"Ref": "AWS::NoValue"}}}
	fn := samlocal.Function{
		LogicalID: "SubmitFunction",
		Variables: map[string]any{
			"TABLE_NAME":       map[string]any{"Ref": "TasksTable"},
			"QUEUE_URL":        map[string]any{"Ref": "TasksQueue"},
			"RESULT_RETENTION": map[string]any{"Ref": "ResultRetention"},
			"AWS_ENDPOINT_URL": noValue,
			"PLAIN":            "x",
			"FROM_SHELL":       "template",
		},
		Timeout: 29, MemorySize: 128,
	}
	tests := []struct {
		name  string
		file  samlocal.EnvFile
		shell map[string]string
		want  map[string]string // checked keys; "" value with absent=true below
		gone  []string          // keys that must be absent
	}{
		{
			name: "no file: logical ids, defaults, intrinsics blank",
			want: map[string]string{"TABLE_NAME": "TasksTable", "QUEUE_URL": "TasksQueue", "RESULT_RETENTION": "24h", "AWS_ENDPOINT_URL": "", "PLAIN": "x", "AWS_LAMBDA_FUNCTION_TIMEOUT": "29", "AWS_REGION": "us-east-1"},
		},
		{
			name: "file: Parameters for all, the function's own entry wins, undeclared ignored",
			file: samlocal.EnvFile{
				"Parameters":     {"TABLE_NAME": "t", "QUEUE_URL": "global", "UNDECLARED": "x", "AWS_ENDPOINT_URL": "http://e"},
				"SubmitFunction": {"QUEUE_URL": "mine", "ALSO_UNDECLARED": "y"},
				"WorkerFunction": {"PLAIN": "not mine"},
			},
			want: map[string]string{"TABLE_NAME": "t", "QUEUE_URL": "mine", "AWS_ENDPOINT_URL": "http://e", "PLAIN": "x"},
			gone: []string{"UNDECLARED", "ALSO_UNDECLARED"},
		},
		{
			name:  "shell: beats the template, not the file; undeclared ignored",
			file:  samlocal.EnvFile{"Parameters": {"TABLE_NAME": "file"}},
			shell: map[string]string{"FROM_SHELL": "shell", "TABLE_NAME": "shell", "HOME": "/root"},
			want:  map[string]string{"FROM_SHELL": "shell", "TABLE_NAME": "file"},
			gone:  []string{"HOME"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := samlocal.Resolve(fn, params, tt.file, tt.shell, nil)
			for k, v := range tt.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s = %q (set: %v); want %q", k, g, ok, v)
				}
			}
			for _, k := range tt.gone {
				if _, ok := got[k]; ok {
					t.Errorf("%s is set; want it ignored (the template does not declare it)", k)
				}
			}
		})
	}
}
