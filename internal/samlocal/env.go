// Package samlocal is what `sam local` needs from this project and does not
// have: the --env-vars file that points the functions at the queue and table
// the local setup creates, a model of the environment sam local gives each
// function (for tests that run the bootstraps exactly so), and the SQS
// trigger (Trigger), which polls the queue and delivers each batch to
// `sam local start-lambda` through the Lambda Invoke API.
package samlocal

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"

	"github.com/asyncprime/asyncprime/internal/provision"
)

// Defaults of `make sam-local`, which env.json at the repository root names.
const (
	// ContainerEndpoint is where the functions, inside sam local's
	// containers, reach the emulator that `make sam-local` starts on port
	// MotoPort of the host (see the README for what each platform needs).
	ContainerEndpoint = "http://host.docker.internal:5050"
	// MotoPort is the host port of that emulator.
	MotoPort = 5050
	// WorkerFunction is the worker's logical id, its name under sam local.
	WorkerFunction = "WorkerFunction"
)

// Names are the resources `make sam-local` creates, as `make run-aws` does.
var Names = provision.Names{Queue: "asyncprime-tasks", DeadLetterQueue: "asyncprime-tasks-dlq", Table: "asyncprime-tasks"}

// EnvFile is the JSON file sam local reads with --env-vars: under
// "Parameters", variables for every function; under a function's logical
// id, variables for that function, which win. sam local sets a variable
// only if the function's template declares it; it ignores the others.
type EnvFile map[string]map[string]string

// GlobalKey is the EnvFile key whose variables apply to every function.
const GlobalKey = "Parameters"

// NewEnvFile returns the file that points the three functions at res on
// the emulator at endpoint, as seen from inside the containers. The queue
// URL gets the endpoint's scheme and host, so that it names the queue the
// same way from there.
func NewEnvFile(res provision.Resources, endpoint string) (EnvFile, error) {
	queueURL, err := rehost(res.QueueURL, endpoint)
	if err != nil {
		return nil, err
	}
	dlqURL, err := rehost(res.DeadLetterQueueURL, endpoint)
	if err != nil {
		return nil, err
	}
	// sam local has one SQS trigger (ours), on the tasks queue: big
	// numbers share it, and its dead-letter queue, there.
	return EnvFile{
		GlobalKey:            {"AWS_ENDPOINT_URL": endpoint, "TABLE_NAME": res.TableName},
		"SubmitFunction":     {"QUEUE_URL": queueURL, "BIG_QUEUE_URL": queueURL},
		"DeadLetterFunction": {"DEAD_LETTER_QUEUE_URL": dlqURL, "BIG_DEAD_LETTER_QUEUE_URL": dlqURL},
	}, nil
}

// rehost returns rawURL with the scheme and host of endpoint.
func rehost(rawURL, endpoint string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("queue URL %q is not a URL", rawURL)
	}
	e, err := url.Parse(endpoint)
	if err != nil || e.Host == "" {
		return "", fmt.Errorf("endpoint %q is not a URL such as http://host.docker.internal:5050", endpoint)
	}
	u.Scheme, u.Host = e.Scheme, e.Host
	return u.String(), nil
}

// Marshal encodes the file as env.json is written: indented, keys sorted.
func (f EnvFile) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Function is what sam local knows of one function when it builds its
// environment.
type Function struct {
	LogicalID string
	// Variables are the function's Environment.Variables as the SAM
	// transform leaves them (Globals merged): strings, numbers, or
	// intrinsic functions such as {"Ref": "TasksTable"}.
	Variables map[string]any
	// Timeout in seconds and MemorySize in MB, as sam local passes them.
	Timeout, MemorySize int
}

// Resolve returns the environment sam local gives fn, following its rules
// (aws-sam-cli samcli/local/lambdafn/env_vars.py):
//
//   - its own AWS_* variables: AWS_SAM_LOCAL, the function's name, timeout
//     and memory, and a region and credentials (placeholders, us-east-1,
//     unless the shell has real ones: pass them in aws);
//   - then each variable the template declares, with the first of: the
//     function's entry in file, the file's "Parameters", the shell's value
//     of that name, the template's value. A Ref to a parameter is its
//     default, a Ref to a resource is the resource's logical id, and any
//     other intrinsic function (Fn::If, Fn::GetAtt, ...) becomes "";
//   - variables in file or shell that the template does not declare are
//     ignored.
//
// params maps each template parameter to its default.
func Resolve(fn Function, params map[string]any, file EnvFile, shell, aws map[string]string) map[string]string {
	env := map[string]string{
		"AWS_SAM_LOCAL":                   "true",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.MemorySize),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(fn.Timeout),
		"AWS_LAMBDA_FUNCTION_HANDLER":     "bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME":        fn.LogicalID,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "aws/lambda/" + fn.LogicalID,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "$LATEST",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_ACCESS_KEY_ID":               "defaultkey",
		"AWS_SECRET_ACCESS_KEY":           "defaultsecret",
		"AWS_ACCOUNT_ID":                  "123456789012",
	}
	maps.Copy(env, aws)
	for _, name := range slices.Sorted(maps.Keys(fn.Variables)) {
		value := stringify(fn.Variables[name], params)
		if v, ok := shell[name]; ok {
			value = v
		}
		if v, ok := file[GlobalKey][name]; ok {
			value = v
		}
		if v, ok := file[fn.LogicalID][name]; ok {
			value = v
		}
		env[name] = value
	}
	return env
}

// stringify turns a template value into the string sam local passes.
func stringify(v any, params map[string]any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok && len(x) == 1 {
			if p, ok := params[ref]; ok {
				return stringify(p, nil)
			}
			if ref == "AWS::NoValue" {
				return "" // None, which sam local passes as ""
			}
			return ref // a resource: sam local gives its logical id
		}
		return ""
	default:
		return ""
	}
}

// Environ returns env as KEY=value lines, sorted.
func Environ(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}
