package samtemplate

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// TestWorkerQueues checks, for each worker function, the queue it reads
// and what lies behind it:
//
//   - VisibilityTimeout: the queue hides a message for six times the
//     worker's timeout plus the batching window, for every timeout and
//     window the template allows, as Lambda's SQS guidance asks;
//   - MaxReceiveCount: the worker's MAX_RECEIVE_COUNT and the queue's
//     redrive maxReceiveCount are the same parameter, so the worker knows
//     which delivery is its last;
//   - Storage: the table, the queues and the dead-letter alarm.
func TestWorkerQueues(t *testing.T) {
	t.Parallel()
	for _, w := range []struct {
		fn                          string
		defaultTimeout, defaultVisi float64
	}{
		{"WorkerFunction", 10, 60},
		{"BigWorkerFunction", 15, 90},
	} {
		for check, f := range map[string]func(*testing.T){
			"VisibilityTimeout": func(t *testing.T) { checkVisibilityTimeout(t, w.fn, w.defaultTimeout, w.defaultVisi) },
			"MaxReceiveCount":   func(t *testing.T) { checkMaxReceiveCount(t, w.fn) },
			"Storage":           func(t *testing.T) { checkStorage(t, w.fn) },
		} {
			t.Run(w.fn+"/"+check, func(t *testing.T) {
				t.Parallel()
				f(t)
			})
		}
	}
}

func checkVisibilityTimeout(t *testing.T, fn string, defaultTimeout, defaultVisi float64) {
	ts := loaded(t)
	found := 0
	for _, r := range ts.Transformed.Resources() {
		if r["Type"] != "AWS::Lambda::EventSourceMapping" {
			continue
		}
		if f, _ := ref(dig(r, "Properties", "FunctionName")); f != fn {
			continue
		}
		queue, _ := getAtt(dig(r, "Properties", "EventSourceArn"), "Arn")
		window := dig(r, "Properties", "MaximumBatchingWindowInSeconds")
		if window == nil {
			window = 0.0
		}
		checkQueueVisibility(t, ts.Source, fn, queue, window, defaultTimeout, defaultVisi)
		found++
	}
	if found == 0 {
		t.Fatalf("no event source mapping reads a queue for %s", fn)
	}
}

// sqsMaxVisibility is the longest visibility timeout SQS allows: 12 hours.
const sqsMaxVisibility = 43200

// checkQueueVisibility wants the queue's visibility timeout to be six
// times the function's timeout plus the event source mapping's batching
// window, for every combination of the values the template allows them.
func checkQueueVisibility(t *testing.T, src Template, fn, queue string, window any, defaultTimeout, defaultVisibility float64) {
	visibility := dig(src.Properties(queue), "VisibilityTimeout")
	timeout := dig(src.Properties(fn), "Timeout")
	if timeout == nil {
		timeout = dig(src, "Globals", "Function", "Timeout")
	}
	// The parameters the three depend on, each with every value it may
	// take.
	params := map[string][]any{}
	for _, v := range []any{timeout, window, visibility} {
		for _, p := range paramRefs(v) {
			params[p] = allowedValues(t, src, p)
		}
	}
	names := slices.Sorted(maps.Keys(params))
	var wrong []string
	bad := 0
	table := map[string]map[string]float64{} // timeout -> window -> 6t+w, for the message
	for _, overrides := range combinations(names, params) {
		to, err := resolveNumber(src, timeout, overrides)
		if err != nil {
			t.Fatalf("%s Timeout: %v", fn, err)
		}
		win, err := resolveNumber(src, window, overrides)
		if err != nil {
			t.Fatalf("%s MaximumBatchingWindowInSeconds: %v", fn, err)
		}
		want := 6*to + win
		k1, k2 := strconv.FormatFloat(to, 'f', -1, 64), strconv.FormatFloat(win, 'f', -1, 64)
		if table[k1] == nil {
			table[k1] = map[string]float64{}
		}
		table[k1][k2] = want
		if want > sqsMaxVisibility {
			t.Errorf("with %v: 6×%v + %v = %v exceeds SQS's longest visibility timeout, %v s", overrides, to, win, want, sqsMaxVisibility)
		}
		vis, err := resolveNumber(src, visibility, overrides)
		if err != nil || vis != want {
			bad++
			wrong = append(wrong, fmt.Sprintf("with %v: %s VisibilityTimeout is %v (%v); want 6×%v + %v = %v", overrides, queue, vis, err, to, win, want))
		}
	}
	if len(wrong) > 10 {
		wrong = append(wrong[:10], "...")
	}
	if len(wrong) > 0 {
		t.Errorf("%d of %d combinations wrong:\n%s\nthe mapping for these values:\n%s", bad, len(combinations(names, params)), strings.Join(wrong, "\n"), mappingYAML(table))
	}
	to, _ := resolveNumber(src, timeout, nil)
	if vis, _ := resolveNumber(src, visibility, nil); to != defaultTimeout || vis != defaultVisibility {
		t.Errorf("defaults: %s timeout %v, visibility timeout %v; want %v and %v", fn, to, vis, defaultTimeout, defaultVisibility)
	}
}

// allowedValues returns the values a parameter may take: its
// AllowedValues, else each whole number from its MinValue to its MaxValue,
// else its default alone.
func allowedValues(t *testing.T, src Template, param string) []any {
	t.Helper()
	if allowed := list(dig(src, "Parameters", param, "AllowedValues")); len(allowed) > 0 {
		return allowed
	}
	lo, okLo := dig(src, "Parameters", param, "MinValue").(float64)
	hi, okHi := dig(src, "Parameters", param, "MaxValue").(float64)
	if okLo && okHi && hi-lo <= 100000 {
		var out []any
		for n := lo; n <= hi; n++ {
			out = append(out, n)
		}
		return out
	}
	t.Logf("%s has no AllowedValues and no bounded range: checked with its default only", param)
	return []any{dig(src, "Parameters", param, "Default")}
}

// paramRefs returns the parameters v refers to with Ref, anywhere in it.
func paramRefs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if p, ok := ref(x); ok && !strings.HasPrefix(p, "AWS::") {
			return []string{p}
		}
		for _, e := range x {
			out = append(out, paramRefs(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, paramRefs(e)...)
		}
	}
	return out
}

// combinations returns every assignment of one value to each name.
func combinations(names []string, values map[string][]any) []map[string]any {
	out := []map[string]any{{}}
	for _, n := range names {
		var next []map[string]any
		for _, partial := range out {
			for _, v := range values[n] {
				c := maps.Clone(partial)
				c[n] = v
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

// mappingYAML writes a two-level mapping as template.yaml holds
// WorkerQueue, in numeric order.
func mappingYAML(table map[string]map[string]float64) string {
	num := func(a, b string) int {
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		return cmp.Compare(x, y)
	}
	var b strings.Builder
	b.WriteString("  WorkerQueue:\n")
	for _, k1 := range slices.SortedFunc(maps.Keys(table), num) {
		var entries []string
		for _, k2 := range slices.SortedFunc(maps.Keys(table[k1]), num) {
			entries = append(entries, fmt.Sprintf("%q: %v", k2, table[k1][k2]))
		}
		fmt.Fprintf(&b, "    %q: {%s}\n", k1, strings.Join(entries, ", "))
	}
	return b.String()
}

// resolveNumber evaluates a number, a parameter Ref (overrides first, then
// the default) or an Fn::FindInMap over them.
func resolveNumber(tmpl Template, v any, overrides map[string]any) (float64, error) {
	s, err := resolve(tmpl, v, overrides)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%v resolves to %q, not a number", v, s)
	}
	return n, nil
}

func resolve(tmpl Template, v any, overrides map[string]any) (string, error) {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case string:
		return x, nil
	case map[string]any:
		if p, ok := ref(x); ok {
			if o, ok := overrides[p]; ok {
				return resolve(tmpl, o, nil)
			}
			def := dig(tmpl, "Parameters", p, "Default")
			if def == nil {
				return "", fmt.Errorf("parameter %s has no default", p)
			}
			return resolve(tmpl, def, nil)
		}
		if args, ok := x["Fn::FindInMap"].([]any); ok && len(args) == 3 {
			keys := make([]string, 3)
			for i, a := range args {
				k, err := resolve(tmpl, a, overrides)
				if err != nil {
					return "", err
				}
				keys[i] = k
			}
			got := dig(tmpl, "Mappings", keys[0], keys[1], keys[2])
			if got == nil {
				return "", fmt.Errorf("mapping %s has no %s.%s", keys[0], keys[1], keys[2])
			}
			return resolve(tmpl, got, nil)
		}
	}
	return "", fmt.Errorf("cannot evaluate %v", v)
}

func checkMaxReceiveCount(t *testing.T, fn string) {
	ts := loaded(t)
	queue := functionQueue(t, ts.Transformed, fn)
	env := dig(ts.Source.Properties(fn), "Environment", "Variables", "MAX_RECEIVE_COUNT")
	redrive := dig(ts.Source.Properties(queue), "RedrivePolicy", "maxReceiveCount")
	envParam, ok1 := ref(env)
	redriveParam, ok2 := ref(redrive)
	if !ok1 || !ok2 || envParam != redriveParam {
		t.Fatalf("%s MAX_RECEIVE_COUNT is %v and %s RedrivePolicy.maxReceiveCount is %v; want both {Ref: <one parameter>}", fn, env, queue, redrive)
	}
	if dig(ts.Source, "Parameters", envParam) == nil {
		t.Errorf("MAX_RECEIVE_COUNT refers to %s; want a template parameter", envParam)
	}
	dlq, ok := getAtt(dig(ts.Source.Properties(queue), "RedrivePolicy", "deadLetterTargetArn"), "Arn")
	if !ok || ts.Source.Resources()[dlq]["Type"] != "AWS::SQS::Queue" {
		t.Errorf("%s RedrivePolicy.deadLetterTargetArn: got %v; want the ARN of a queue in the template", queue, dig(ts.Source.Properties(queue), "RedrivePolicy", "deadLetterTargetArn"))
	}
	// Something settles the tasks whose messages land there.
	if got := peekedQueues(ts.Source); !slices.Contains(got, dlq) {
		t.Errorf("DeadLetterFunction peeks at %v; want %s (the dead-letter queue of %s) among them", got, dlq, queue)
	}
}

func checkStorage(t *testing.T, fn string) {
	ts := loaded(t)
	src := ts.Source
	queue := functionQueue(t, ts.Transformed, fn)
	dlq, _ := getAtt(dig(src.Properties(queue), "RedrivePolicy", "deadLetterTargetArn"), "Arn")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"table key", fmt.Sprint(dig(src.Properties("TasksTable"), "KeySchema")), "[map[AttributeName:task_id KeyType:HASH]]"},
		{"table key type", fmt.Sprint(dig(src.Properties("TasksTable"), "AttributeDefinitions")), "[map[AttributeName:task_id AttributeType:S]]"},
		{"table billing", dig(src.Properties("TasksTable"), "BillingMode"), "PAY_PER_REQUEST"},
		{"table TTL attribute", dig(src.Properties("TasksTable"), "TimeToLiveSpecification", "AttributeName"), "expires_at"},
		{"table TTL enabled", dig(src.Properties("TasksTable"), "TimeToLiveSpecification", "Enabled"), true},
		{"table PITR", dig(src.Properties("TasksTable"), "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), true},
		{"table SSE", dig(src.Properties("TasksTable"), "SSESpecification", "SSEEnabled"), true},
		{"queue SSE", dig(src.Properties(queue), "SqsManagedSseEnabled"), true},
		{"DLQ SSE", dig(src.Properties(dlq), "SqsManagedSseEnabled"), true},
		{"DLQ retention", dig(src.Properties(dlq), "MessageRetentionPeriod"), 1209600.0},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v; want %v", tt.name, tt.got, tt.want)
		}
	}
	alarms := 0
	for id, r := range src.Resources() {
		if r["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		p := r["Properties"]
		q, _ := getAtt(dig(p, "Dimensions", "0", "Value"), "QueueName")
		if q != dlq {
			continue
		}
		alarms++
		// Nothing consumes the dead letters: count what waits.
		if dig(p, "MetricName") != "ApproximateNumberOfMessagesVisible" || dig(p, "Statistic") != "Maximum" || dig(p, "ComparisonOperator") != "GreaterThanThreshold" || dig(p, "Threshold") != 0.0 {
			t.Errorf("alarm %s: got %v %v %v %v; want ApproximateNumberOfMessagesVisible Maximum GreaterThanThreshold 0", id, dig(p, "MetricName"), dig(p, "Statistic"), dig(p, "ComparisonOperator"), dig(p, "Threshold"))
		}
	}
	if alarms != 1 {
		t.Errorf("alarms on %s: got %d; want 1", dlq, alarms)
	}
	var outputs []string
	outs, _ := dig(src, "Outputs").(map[string]any)
	for k := range outs {
		outputs = append(outputs, k)
	}
	for _, want := range []string{"ApiUrl", "QueueUrl", "BigQueueUrl", "TableName"} {
		if !slices.Contains(outputs, want) {
			t.Errorf("outputs: got %v; want %s among them", outputs, want)
		}
	}
}

// TestProvisionMatchesTemplate: the queue, dead-letter queue and table that
// the tests and `make run-aws` create on an emulator (internal/provision)
// have the template's default settings, and the code's defaults agree.
func TestProvisionMatchesTemplate(t *testing.T) {
	t.Parallel()
	ts := loaded(t)
	src := ts.Source
	tasksQueue := workerQueue(t, ts.Transformed)
	dlq, _ := getAtt(dig(src.Properties(tasksQueue), "RedrivePolicy", "deadLetterTargetArn"), "Arn")
	visibility, err := resolveNumber(src, dig(src.Properties(tasksQueue), "VisibilityTimeout"), nil)
	if err != nil {
		t.Fatal(err)
	}
	maxReceives, err := resolveNumber(src, dig(src.Properties(tasksQueue), "RedrivePolicy", "maxReceiveCount"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		code      float64
		templated any
	}{
		{"visibility timeout (s)", queue.DefaultVisibilityTimeout.Seconds(), visibility},
		{"max receive count", float64(task.DefaultMaxReceiveCount), maxReceives},
		{"worker timeout (s)", worker.DefaultTimeout.Seconds(), dig(src, "Parameters", "WorkerTimeout", "Default")},
		{"batch size", float64(queue.DefaultBatchSize), dig(src, "Parameters", "WorkerBatchSize", "Default")},
		{"batch size limit", float64(queue.MaxBatch), dig(src, "Parameters", "WorkerBatchSize", "MaxValue")},
		{"DLQ retention (s)", provision.DefaultDeadLetterRetention.Seconds(), dig(src.Properties(dlq), "MessageRetentionPeriod")},
		{"result retention", task.DefaultRetention.Hours(), retentionHours(t, src)},
	}
	for _, tt := range tests {
		if tt.templated != tt.code {
			t.Errorf("%s: template %v; code %v", tt.name, tt.templated, tt.code)
		}
	}
}

func retentionHours(t *testing.T, src Template) any {
	t.Helper()
	d, err := time.ParseDuration(fmt.Sprint(dig(src, "Parameters", "ResultRetention", "Default")))
	if err != nil {
		t.Fatalf("ResultRetention default: %v", err)
	}
	return d.Hours()
}

// Figures behind the big-number worker's sizing, from docs/benchmarks.md
// ("Sizing the big-number worker"): the CPU time of the slowest check the
// API accepts (a 1000-digit prime, one core, GOMAXPROCS=1), and the memory
// at which a Lambda function gets one full vCPU (less gets a proportional
// share).
const (
	bigCheckCPUSeconds = 0.19
	fullVCPUMemoryMB   = 1769.0
)

// TestBigWorkerFitsABatch wants a full batch of the largest numbers to
// finish on the big-number worker with half its time to spare, before the
// worker stops taking records (worker.DefaultReserve before its deadline),
// with the template's defaults.
func TestBigWorkerFitsABatch(t *testing.T) {
	t.Parallel()
	src := loaded(t).Source
	number := func(what string, v any) float64 {
		n, err := resolveNumber(src, v, nil)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return n
	}
	mem := number("BigWorkerFunction MemorySize", dig(src.Properties("BigWorkerFunction"), "MemorySize"))
	timeout := number("BigWorkerFunction Timeout", dig(src.Properties("BigWorkerFunction"), "Timeout"))
	batch := number("BigWorkerQueueEventSource BatchSize", dig(src.Properties("BigWorkerQueueEventSource"), "BatchSize"))
	need := batch * bigCheckCPUSeconds / min(1, mem/fullVCPUMemoryMB)
	budget := timeout - worker.DefaultReserve.Seconds()
	if need > budget/2 {
		t.Errorf("a batch of %v 1000-digit primes takes about %.1f s at %v MB; want at most half of %v s (timeout %v s less the worker's reserve)", batch, need, mem, budget, timeout)
	}
	at128 := batch * bigCheckCPUSeconds * fullVCPUMemoryMB / 128
	t.Logf("a batch of %v: %.1f s at %v MB (%.1f s on the 128 MB worker)", batch, need, mem, at128)
}
