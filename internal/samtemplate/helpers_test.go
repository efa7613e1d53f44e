package samtemplate

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/awstest"
)

// root is the repository root, seen from this package's directory, where
// go test runs.
const root = "../.."

// loadTimeout bounds one python3 or cfn-lint run.
const loadTimeout = 2 * time.Minute

var templatePath = filepath.Join(root, "template.yaml")

// loadOnce runs the loader once for every test in the package.
var loadOnce = sync.OnceValues(func() (*Templates, error) {
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	return Load(ctx, templatePath)
})

// loaded returns template.yaml as written and as transformed. Without the
// tools it skips the test, or fails it when EMULATOR_REQUIRED=1 (CI).
func loaded(t *testing.T) *Templates {
	t.Helper()
	ts, err := loadOnce()
	if errors.Is(err, ErrToolMissing) {
		awstest.Unavailable(t, err)
	}
	if err != nil {
		t.Fatalf("load template.yaml: %v", err)
	}
	return ts
}

// lookPath returns the path of a command, or skips or fails the test as
// awstest.Unavailable does.
func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		awstest.Unavailable(t, fmt.Errorf("%s: %w", name, err))
	}
	return p
}

// dig walks v through object keys and list indexes ("0", "1", ...); nil
// when a step is missing.
func dig(v any, path ...string) any {
	for _, k := range path {
		switch x := v.(type) {
		case Template:
			v = x[k]
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// list returns v as a list: a JSON list as is, a single value as a list of
// one, nil as empty. IAM accepts both forms for Action and Resource.
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

// ref returns the name in {"Ref": name}.
func ref(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	s, ok := m["Ref"].(string)
	return s, ok
}

// getAtt returns the logical id in {"Fn::GetAtt": [id, attr]} when attr
// matches.
func getAtt(v any, attr string) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	args, ok := m["Fn::GetAtt"].([]any)
	if !ok || len(args) != 2 || args[1] != attr {
		return "", false
	}
	id, ok := args[0].(string)
	return id, ok
}

// sorted returns the set's members in order.
func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// setOf returns the members of ss as a set.
func setOf(ss ...[]string) map[string]bool {
	set := map[string]bool{}
	for _, s := range ss {
		for _, v := range s {
			set[v] = true
		}
	}
	return set
}

// workerQueue returns the logical id of the queue the worker's event
// source mapping reads, from the transformed template.
func workerQueue(t *testing.T, tmpl Template) string {
	t.Helper()
	return functionQueue(t, tmpl, "WorkerFunction")
}

// functionQueue returns the logical id of the one queue the event source
// mappings of function fn read.
func functionQueue(t *testing.T, tmpl Template, fn string) string {
	t.Helper()
	queues := eventQueues(t, tmpl, fn)
	if len(queues) != 1 {
		t.Fatalf("event source mappings for %s read queues %v; want exactly one", fn, queues)
	}
	return queues[0]
}

// eventQueues returns, sorted, the logical ids of the queues the event
// source mappings of function fn read.
func eventQueues(t *testing.T, tmpl Template, fn string) []string {
	t.Helper()
	var queues []string
	for id, r := range tmpl.Resources() {
		if r["Type"] != "AWS::Lambda::EventSourceMapping" {
			continue
		}
		if f, _ := ref(dig(r, "Properties", "FunctionName")); f != fn {
			continue
		}
		q, ok := getAtt(dig(r, "Properties", "EventSourceArn"), "Arn")
		if !ok {
			t.Fatalf("event source mapping %s: EventSourceArn is %v; want {Fn::GetAtt: [<queue>, Arn]}", id, dig(r, "Properties", "EventSourceArn"))
		}
		queues = append(queues, q)
	}
	slices.Sort(queues)
	return queues
}
