package samtemplate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestNoWildcardGrants wants no IAM statement that allows every action, or
// an SQS or DynamoDB action on every resource, and no managed policy that
// could (such as AWSLambdaSQSQueueExecutionRole, which a SAM SQS event
// attaches and which grants its SQS actions on "*").
func TestNoWildcardGrants(t *testing.T) {
	t.Parallel()
	// None: each function's role is written out in the template, because
	// AWSLambdaBasicExecutionRole grants logs actions on "*".
	var allowedManaged []string
	for id, r := range loaded(t).Transformed.Resources() {
		var docs []any
		switch r["Type"] {
		case "AWS::IAM::Role":
			for _, p := range list(dig(r, "Properties", "Policies")) {
				docs = append(docs, dig(p, "PolicyDocument"))
			}
			for _, arn := range list(dig(r, "Properties", "ManagedPolicyArns")) {
				s, _ := arn.(string)
				if !slices.ContainsFunc(allowedManaged, func(name string) bool { return strings.HasSuffix(s, ":policy/"+name) }) {
					t.Errorf("role %s attaches managed policy %v; want only %v (others may grant sqs:/dynamodb: actions on every resource)", id, arn, allowedManaged)
				}
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			docs = append(docs, dig(r, "Properties", "PolicyDocument"))
		default:
			continue
		}
		for _, doc := range docs {
			for i, st := range list(dig(doc, "Statement")) {
				checkStatement(t, fmt.Sprintf("%s statement %d", id, i), st)
			}
		}
	}
}

func checkStatement(t *testing.T, where string, st any) {
	t.Helper()
	if dig(st, "NotAction") != nil || dig(st, "NotResource") != nil {
		t.Errorf("%s: uses NotAction or NotResource; want explicit Action and Resource", where)
	}
	if dig(st, "Effect") != "Allow" {
		return
	}
	dataAction := false
	for _, a := range list(dig(st, "Action")) {
		s, _ := a.(string)
		if s == "*" {
			t.Errorf(`%s: got Action "*"; want named actions`, where)
		}
		lower := strings.ToLower(s)
		if strings.HasPrefix(lower, "sqs:") || strings.HasPrefix(lower, "dynamodb:") || strings.HasPrefix(lower, "logs:") {
			dataAction = true
			if strings.Contains(s, "*") {
				t.Errorf("%s: got Action %q; want no wildcard in sqs:/dynamodb: actions", where, s)
			}
		}
	}
	if !dataAction {
		return
	}
	for _, r := range list(dig(st, "Resource")) {
		if s, ok := r.(string); ok && strings.Contains(s, "*") {
			t.Errorf("%s: grants %v on Resource %q; want the table's, a queue's or a log group's ARN", where, dig(st, "Action"), s)
		}
	}
}

// TestPermissions wants each function's role to grant exactly the actions
// in Permissions (and PollPermissions), on the table and the queue.
func TestPermissions(t *testing.T) {
	t.Parallel()
	tmpl := loaded(t).Transformed
	for fn := range Functions {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			role, ok := getAtt(dig(tmpl.Properties(fn), "Role"), "Arn")
			if !ok {
				t.Fatalf("%s Role: got %v; want {Fn::GetAtt: [<role>, Arn]}", fn, dig(tmpl.Properties(fn), "Role"))
			}
			logGroup, _ := ref(dig(tmpl.Properties(fn), "LoggingConfig", "LogGroup"))
			got := map[string]bool{}
			for _, p := range list(dig(tmpl.Properties(role), "Policies")) {
				for i, st := range list(dig(p, "PolicyDocument", "Statement")) {
					for _, a := range list(dig(st, "Action")) {
						s, _ := a.(string)
						var want []string
						switch {
						case strings.HasPrefix(s, "dynamodb:"):
							want = []string{"TasksTable"}
						case strings.HasPrefix(s, "sqs:"):
							want = Queues[fn]
						case strings.HasPrefix(s, "logs:"):
							// Writing its own log group only.
							want = []string{logGroup}
							if !slices.Contains(LogPermissions, s) {
								t.Errorf("%s statement %d: grants %s; want only %v among logs actions", role, i, s, LogPermissions)
							}
						case strings.HasPrefix(s, "xray:"):
							// X-Ray has no resource-level permissions: "*" it must be.
							if !slices.Contains(TracePermissions, s) {
								t.Errorf("%s statement %d: grants %s; want only %v among xray actions", role, i, s, TracePermissions)
							}
							continue
						}
						if !strings.HasPrefix(s, "logs:") {
							got[s] = true
						}
						for _, r := range list(dig(st, "Resource")) {
							if id, _ := getAtt(r, "Arn"); want != nil && !slices.Contains(want, id) {
								t.Errorf("%s statement %d: grants %s on %v; want {Fn::GetAtt: [<one of %v>, Arn]}", role, i, s, r, want)
							}
						}
					}
				}
			}
			want := setOf(Permissions[fn], PollPermissions[fn])
			if !slices.Equal(sorted(got), sorted(want)) {
				t.Errorf("%s (role %s) may call %v; want %v", fn, role, sorted(got), sorted(want))
			}
		})
	}
}
