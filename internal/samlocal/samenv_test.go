package samlocal

// The model of the environment sam local gives each function: only the
// tests that run the bootstraps exactly so need it.

import (
	"maps"
	"slices"
	"strconv"
)

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
