package samtemplate

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// taskUUID is the form of task ids.
var taskUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[478][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// httpEvent is the part of an API Gateway HTTP API (payload 2.0) event the
// sample events must get right.
type httpEvent struct {
	Version         string            `json:"version"`
	RouteKey        string            `json:"routeKey"`
	RawPath         string            `json:"rawPath"`
	Headers         map[string]string `json:"headers"`
	PathParameters  map[string]string `json:"pathParameters"`
	Body            *string           `json:"body"`
	IsBase64Encoded *bool             `json:"isBase64Encoded"`
	RequestContext  struct {
		APIID    string `json:"apiId"`
		RouteKey string `json:"routeKey"`
		Stage    string `json:"stage"`
		HTTP     struct {
			Method string `json:"method"`
			Path   string `json:"path"`
		} `json:"http"`
		RequestID string `json:"requestId"`
		TimeEpoch int64  `json:"timeEpoch"`
	} `json:"requestContext"`
}

func readEvent(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode events/%s: %v", name, err)
	}
}

// TestHTTPEvents checks the sample events for sam local invoke against the
// routes they stand for.
func TestHTTPEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, method, route, path string
	}{
		{"submit.json", "POST", "POST /", "/"},
		{"status.json", "GET", "GET /{task_id}", "/3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			var e httpEvent
			readEvent(t, tt.file, &e)
			rc := e.RequestContext
			for _, c := range []struct{ what, got, want string }{
				{"version", e.Version, "2.0"},
				{"routeKey", e.RouteKey, tt.route},
				{"requestContext.routeKey", rc.RouteKey, tt.route},
				{"requestContext.stage", rc.Stage, "$default"},
				{"requestContext.http.method", rc.HTTP.Method, tt.method},
				{"rawPath", e.RawPath, tt.path},
				{"requestContext.http.path", rc.HTTP.Path, tt.path},
			} {
				if c.got != c.want {
					t.Errorf("%s: got %q; want %q", c.what, c.got, c.want)
				}
			}
			if rc.APIID == "" || rc.RequestID == "" || rc.TimeEpoch == 0 || e.IsBase64Encoded == nil {
				t.Errorf("requestContext: got apiId %q, requestId %q, timeEpoch %d, isBase64Encoded %v; want all set", rc.APIID, rc.RequestID, rc.TimeEpoch, e.IsBase64Encoded)
			}
			switch tt.method {
			case "POST":
				if e.Headers["content-type"] != "application/json" {
					t.Errorf("content-type header: got %q; want application/json", e.Headers["content-type"])
				}
				var body struct{ Number *int }
				if e.Body == nil || json.Unmarshal([]byte(*e.Body), &body) != nil || body.Number == nil || *body.Number != 11 {
					t.Errorf(`body: got %v; want {"number": 11}`, e.Body)
				}
			case "GET":
				if id := e.PathParameters["task_id"]; !taskUUID.MatchString(id) || "/"+id != e.RawPath {
					t.Errorf("pathParameters.task_id: got %q; want the task UUID in rawPath %q", id, e.RawPath)
				}
			}
		})
	}
}

// TestWorkerEvent checks the sample SQS batch: two tasks and one poison
// message, each record as SQS delivers it.
func TestWorkerEvent(t *testing.T) {
	t.Parallel()
	var e struct {
		Records []struct {
			MessageID      string            `json:"messageId"`
			ReceiptHandle  string            `json:"receiptHandle"`
			Body           string            `json:"body"`
			Attributes     map[string]string `json:"attributes"`
			MD5OfBody      string            `json:"md5OfBody"`
			EventSource    string            `json:"eventSource"`
			EventSourceARN string            `json:"eventSourceARN"`
			AWSRegion      string            `json:"awsRegion"`
		}
	}
	readEvent(t, "worker.json", &e)
	if len(e.Records) != 3 {
		t.Fatalf("records: got %d; want 3", len(e.Records))
	}
	ids := map[string]bool{}
	good, poison := 0, 0
	for i, r := range e.Records {
		if ids[r.MessageID] || r.MessageID == "" {
			t.Errorf("record %d: messageId %q is empty or repeated", i, r.MessageID)
		}
		ids[r.MessageID] = true
		sum := md5.Sum([]byte(r.Body))
		if got := hex.EncodeToString(sum[:]); got != r.MD5OfBody {
			t.Errorf("record %d: md5OfBody %s; want %s, the MD5 of the body", i, r.MD5OfBody, got)
		}
		if r.EventSource != "aws:sqs" || r.AWSRegion == "" || r.EventSourceARN == "" || r.ReceiptHandle == "" {
			t.Errorf("record %d: eventSource %q, awsRegion %q, eventSourceARN %q, receiptHandle %q; want aws:sqs and the rest set", i, r.EventSource, r.AWSRegion, r.EventSourceARN, r.ReceiptHandle)
		}
		for _, a := range []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} {
			if r.Attributes[a] == "" {
				t.Errorf("record %d: attribute %s is missing", i, a)
			}
		}
		var msg struct {
			TaskID string `json:"task_id"`
		}
		if json.Unmarshal([]byte(r.Body), &msg) != nil {
			poison++
			continue
		}
		if !taskUUID.MatchString(msg.TaskID) {
			t.Errorf("record %d: task_id %q; want a task UUID", i, msg.TaskID)
		}
		good++
	}
	if good != 2 || poison != 1 {
		t.Errorf("bodies: got %d tasks and %d not JSON; want 2 and 1", good, poison)
	}
}

// TestScheduledEvent checks the sample event of the dead-letter function:
// what EventBridge sends for the template's schedule (the shape of `sam
// local generate-event cloudwatch scheduled-event`), naming the rule the
// transformed template makes for it.
func TestScheduledEvent(t *testing.T) {
	t.Parallel()
	var e events.EventBridgeEvent
	readEvent(t, "deadletter.json", &e)
	for _, c := range []struct{ what, got, want string }{
		{"version", e.Version, "0"},
		{"detail-type", e.DetailType, "Scheduled Event"},
		{"source", e.Source, "aws.events"},
		{"detail", string(e.Detail), "{}"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q; want %q", c.what, c.got, c.want)
		}
	}
	if e.ID == "" || e.AccountID == "" || e.Region == "" || e.Time.IsZero() {
		t.Errorf("id %q, account %q, region %q, time %v; want all set", e.ID, e.AccountID, e.Region, e.Time)
	}
	var rules []string
	for id, r := range loaded(t).Transformed.Resources() {
		if r["Type"] != "AWS::Events::Rule" {
			continue
		}
		for _, target := range list(dig(r, "Properties", "Targets")) {
			if fn, _ := getAtt(dig(target, "Arn"), "Arn"); fn == "DeadLetterFunction" {
				rules = append(rules, id)
			}
		}
	}
	if len(rules) != 1 {
		t.Fatalf("rules that run DeadLetterFunction: %v; want one", rules)
	}
	// CloudFormation names the rule <stack>-<logical id>-<suffix>.
	arn := regexp.MustCompile(`^arn:aws:events:([a-z0-9-]+):([0-9]{12}):rule/[A-Za-z0-9-]+-` + rules[0] + `-[A-Z0-9]+$`)
	if len(e.Resources) != 1 {
		t.Fatalf("resources: got %v; want the rule's ARN", e.Resources)
	}
	m := arn.FindStringSubmatch(e.Resources[0])
	if m == nil || m[1] != e.Region || m[2] != e.AccountID {
		t.Errorf("resources[0]: got %q; want the ARN of rule <stack>-%s-<suffix> in region %s, account %s", e.Resources[0], rules[0], e.Region, e.AccountID)
	}
}
