package samtemplate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestLint runs cfn-lint once, on template.yaml and on the transformed
// template, and wants no error and no warning.
func TestLint(t *testing.T) {
	t.Parallel()
	cfnLint := lookPath(t, "cfn-lint")
	ts := loaded(t)
	transformed := filepath.Join(t.TempDir(), "transformed.json")
	b, err := json.Marshal(ts.Transformed)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(transformed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), loadTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, cfnLint, "--", templatePath, transformed).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("cfn-lint template.yaml <transformed>: got %v with output:\n%s\nwant exit 0 and no output", err, out)
	}
}

// TestTransform checks that the SAM transform yields the three functions,
// the worker's event source mapping and the HTTP API routes.
func TestTransform(t *testing.T) {
	t.Parallel()
	tmpl := loaded(t).Transformed
	res := tmpl.Resources()

	t.Run("functions", func(t *testing.T) {
		t.Parallel()
		var got []string
		for id, r := range res {
			if r["Type"] == "AWS::Lambda::Function" {
				got = append(got, id)
			}
		}
		slices.Sort(got)
		want := []string{"BigWorkerFunction", "DeadLetterFunction", "StatusFunction", "SubmitFunction", "WorkerFunction"}
		if !slices.Equal(got, want) {
			t.Fatalf("AWS::Lambda::Function resources: got %v; want %v", got, want)
		}
		for _, id := range want {
			p := tmpl.Properties(id)
			for _, c := range []struct {
				path []string
				want any
			}{
				{[]string{"Runtime"}, "provided.al2023"},
				{[]string{"Handler"}, "bootstrap"},
				{[]string{"TracingConfig", "Mode"}, "Active"},
				{[]string{"LoggingConfig", "LogFormat"}, "JSON"},
			} {
				if got := dig(p, c.path...); got != c.want {
					t.Errorf("%s %s: got %v; want %v", id, strings.Join(c.path, "."), got, c.want)
				}
			}
			// sam.mk's build-<LogicalId> targets run from the root.
			src := loaded(t).Source
			if got := dig(src.Resources()[id], "Metadata", "BuildMethod"); got != "makefile" {
				t.Errorf("%s Metadata.BuildMethod: got %v; want makefile", id, got)
			}
			codeURI := dig(src.Properties(id), "CodeUri")
			if codeURI == nil {
				codeURI = dig(src, "Globals", "Function", "CodeUri")
			}
			if codeURI != "." {
				t.Errorf("%s CodeUri: got %v; want . (the Makefile that includes sam.mk is at the root)", id, codeURI)
			}
			if lvl, _ := ref(dig(p, "LoggingConfig", "ApplicationLogLevel")); lvl != "LogLevel" {
				t.Errorf("%s LoggingConfig.ApplicationLogLevel: got %v; want {Ref: LogLevel}", id, dig(p, "LoggingConfig", "ApplicationLogLevel"))
			}
		}
	})

	// lambdacontext.NewLogger, which the functions log through, knows
	// these levels (parseLogLevel) and takes any other for INFO: Lambda's
	// filter at TRACE or FATAL would disagree with the functions.
	t.Run("log levels", func(t *testing.T) {
		t.Parallel()
		got := dig(loaded(t).Source, "Parameters", "LogLevel", "AllowedValues")
		if fmt.Sprint(got) != "[DEBUG INFO WARN ERROR]" {
			t.Errorf("LogLevel AllowedValues: got %v; want [DEBUG INFO WARN ERROR], the levels aws-lambda-go's logger reads", got)
		}
	})

	t.Run("event source mapping", func(t *testing.T) {
		t.Parallel()
		for fn, want := range map[string][]string{
			"WorkerFunction":    {"TasksQueue"},
			"BigWorkerFunction": {"BigTasksQueue"},
			// Nothing consumes the dead letters: the dead-letter function
			// runs on a schedule and peeks (see TestDeadLetterFunction).
			"DeadLetterFunction": nil,
		} {
			if got := eventQueues(t, tmpl, fn); !slices.Equal(got, want) {
				t.Errorf("%s reads queues %v; want %v", fn, got, want)
			}
		}
		params := map[string]struct{ batch, window, concurrency string }{
			"WorkerFunction":    {"WorkerBatchSize", "WorkerMaxBatchingWindow", "WorkerMaxConcurrency"},
			"BigWorkerFunction": {"BigWorkerBatchSize", "WorkerMaxBatchingWindow", "BigWorkerMaxConcurrency"},
		}
		for id, r := range res {
			if r["Type"] != "AWS::Lambda::EventSourceMapping" {
				continue
			}
			p := r["Properties"]
			if got := list(dig(p, "FunctionResponseTypes")); !slices.Equal(got, []any{"ReportBatchItemFailures"}) {
				t.Errorf("%s FunctionResponseTypes: got %v; want [ReportBatchItemFailures]", id, got)
			}
			fn, _ := ref(dig(p, "FunctionName"))
			want, ok := params[fn]
			if !ok {
				continue
			}
			for key, param := range map[string]string{
				"BatchSize":                      want.batch,
				"MaximumBatchingWindowInSeconds": want.window,
			} {
				if got, _ := ref(dig(p, key)); got != param {
					t.Errorf("%s %s: got %v; want {Ref: %s}", id, key, dig(p, key), param)
				}
			}
			if got, _ := ref(dig(p, "ScalingConfig", "MaximumConcurrency")); got != want.concurrency {
				t.Errorf("%s ScalingConfig.MaximumConcurrency: got %v; want {Ref: %s}", id, dig(p, "ScalingConfig", "MaximumConcurrency"), want.concurrency)
			}
		}
		if min := dig(loaded(t).Source, "Parameters", "WorkerMaxConcurrency", "MinValue"); min != 2.0 {
			t.Errorf("WorkerMaxConcurrency MinValue: got %v; want 2 (Lambda's minimum)", min)
		}
	})

	t.Run("routes", func(t *testing.T) {
		t.Parallel()
		got := routes(t, tmpl)
		want := map[string]string{
			"POST /":             "SubmitFunction",
			"OPTIONS /":          "SubmitFunction",
			"ANY /":              "SubmitFunction",
			"GET /{task_id}":     "StatusFunction",
			"DELETE /{task_id}":  "StatusFunction",
			"OPTIONS /{task_id}": "StatusFunction",
			"ANY /{task_id}":     "StatusFunction",
			"$default":           "StatusFunction",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("HTTP API routes: got %v; want %v", got, want)
		}
	})

	t.Run("stage and cors", func(t *testing.T) {
		t.Parallel()
		var stages []string
		for id, r := range res {
			if r["Type"] != "AWS::ApiGatewayV2::Stage" {
				continue
			}
			stages = append(stages, id)
			p := r["Properties"]
			if got := dig(p, "StageName"); got != "$default" {
				t.Errorf("%s StageName: got %v; want $default", id, got)
			}
			for key, param := range map[string]string{
				"ThrottlingBurstLimit": "ApiThrottlingBurstLimit",
				"ThrottlingRateLimit":  "ApiThrottlingRateLimit",
			} {
				if got, _ := ref(dig(p, "DefaultRouteSettings", key)); got != param {
					t.Errorf("%s DefaultRouteSettings.%s: got %v; want {Ref: %s}", id, key, dig(p, "DefaultRouteSettings", key), param)
				}
			}
		}
		if len(stages) != 1 {
			t.Errorf("AWS::ApiGatewayV2::Stage resources: got %v; want one", stages)
		}
		// The Ref must reach CloudFormation, which resolves a
		// CommaDelimitedList to a list; SAM would resolve it to the
		// default string at transform time.
		cors := dig(httpAPIBody(t, tmpl), "x-amazon-apigateway-cors")
		if got, _ := ref(dig(cors, "allowOrigins")); got != "CorsAllowOrigins" {
			t.Errorf("x-amazon-apigateway-cors.allowOrigins: got %v; want {Ref: CorsAllowOrigins}", dig(cors, "allowOrigins"))
		}
		if got := fmt.Sprint(dig(cors, "allowMethods")); got != "[GET POST DELETE]" {
			t.Errorf("x-amazon-apigateway-cors.allowMethods: got %s; want [GET POST DELETE]", got)
		}
		if got := fmt.Sprint(dig(cors, "allowHeaders")); got != "[content-type idempotency-key authorization x-amz-date x-amz-security-token x-amz-content-sha256]" {
			t.Errorf("x-amazon-apigateway-cors.allowHeaders: got %s; want content-type, idempotency-key and the SigV4 headers", got)
		}
		param := dig(loaded(t).Source, "Parameters", "CorsAllowOrigins")
		if typ, def := dig(param, "Type"), dig(param, "Default"); typ != "CommaDelimitedList" || def != "*" {
			t.Errorf("parameter CorsAllowOrigins: got Type %v, Default %v; want CommaDelimitedList, *", typ, def)
		}
	})
}

// integrationFunction finds the function in an integration URI such as
// {"Fn::Sub": "arn:...:functions/${StatusFunction.Arn}/invocations"}.
var integrationFunction = regexp.MustCompile(`\$\{(\w+)\.Arn\}`)

// httpAPIBody returns the OpenAPI body of the template's one HTTP API.
func httpAPIBody(t *testing.T, tmpl Template) map[string]any {
	t.Helper()
	var bodies []map[string]any
	for _, r := range tmpl.Resources() {
		if r["Type"] == "AWS::ApiGatewayV2::Api" {
			b, _ := dig(r, "Properties", "Body").(map[string]any)
			bodies = append(bodies, b)
		}
	}
	if len(bodies) != 1 || bodies[0] == nil {
		t.Fatalf("AWS::ApiGatewayV2::Api resources with an OpenAPI Body: got %d; want 1", len(bodies))
	}
	return bodies[0]
}

// routes returns the HTTP API's route keys ("POST /", "$default") and the
// function each one invokes with payload format 2.0.
func routes(t *testing.T, tmpl Template) map[string]string {
	t.Helper()
	paths, _ := httpAPIBody(t, tmpl)["paths"].(map[string]any)
	got := map[string]string{}
	for path, ops := range paths {
		ops, _ := ops.(map[string]any)
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + path
			switch {
			case method == "x-amazon-apigateway-any-method" && path == "/$default":
				key = "$default"
			case method == "x-amazon-apigateway-any-method":
				key = "ANY " + path
			}
			integ := dig(op, "x-amazon-apigateway-integration")
			if v := dig(integ, "payloadFormatVersion"); v != "2.0" {
				t.Errorf("route %s: payloadFormatVersion %v; want 2.0", key, v)
			}
			uri, _ := json.Marshal(dig(integ, "uri"))
			m := integrationFunction.FindStringSubmatch(string(uri))
			if m == nil {
				t.Errorf("route %s: integration uri %s names no function", key, uri)
				continue
			}
			got[key] = m[1]
		}
	}
	return got
}

// TestMemorySizes: each function's memory comes from the parameter whose
// description names it: FunctionMemorySize (through Globals) for all but
// the big-number worker, which has BigWorkerMemorySize.
func TestMemorySizes(t *testing.T) {
	t.Parallel()
	src := loaded(t).Source
	global, _ := ref(dig(src, "Globals", "Function", "MemorySize"))
	for fn := range Functions {
		got, ok := ref(dig(src.Properties(fn), "MemorySize"))
		if !ok {
			got = global
		}
		want := "FunctionMemorySize"
		if fn == "BigWorkerFunction" {
			want = "BigWorkerMemorySize"
		}
		if got != want {
			t.Errorf("%s MemorySize: {Ref: %s}; want {Ref: %s}", fn, got, want)
		}
	}
	if d, _ := dig(src, "Parameters", "FunctionMemorySize", "Description").(string); !strings.Contains(d, "BigWorkerMemorySize") || strings.HasSuffix(d, "of every function.") {
		t.Errorf("FunctionMemorySize Description %q; want it to say the big-number worker has BigWorkerMemorySize", d)
	}
}
