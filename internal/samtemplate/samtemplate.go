// Package samtemplate reads the SAM template, template.yaml at the
// repository root, the way CloudFormation sees it, so that tests can check
// the deployment against the code: the functions, the environment each one
// reads, the IAM actions each one may use, the queue and the HTTP routes.
//
// Load decodes the template with cfn-lint's YAML decoder, which understands
// the short intrinsic tags (!Ref, !GetAtt, !Sub, ...), and expands it
// offline with the AWS SAM translator into the plain CloudFormation that
// would be deployed. Both run in python3; when python3, cfn-lint or
// aws-sam-translator is missing, Load returns an error that wraps
// ErrToolMissing.
//
// Permissions states the IAM actions each function's code calls, for the
// template test and for tests that watch the calls the code makes.
package samtemplate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Functions maps each function's logical id in template.yaml to the
// directory of its main package, relative to the repository root.
var Functions = map[string]string{
	"SubmitFunction": "functions/submit",
	"WorkerFunction": "functions/worker",
	// The same binary as WorkerFunction, on the queue of numbers beyond
	// 64 bits, with more memory (a full vCPU).
	"BigWorkerFunction":  "functions/worker",
	"DeadLetterFunction": "functions/deadletter",
	"StatusFunction":     "functions/status",
}

// Permissions lists, for each function's logical id, the IAM actions its
// code calls, and so the only ones its role grants on the table and the
// queue.
//
// IAM authorises a TransactWriteItems by its actions (each Put as
// dynamodb:PutItem), SendMessageBatch as sqs:SendMessage and
// ChangeMessageVisibilityBatch as sqs:ChangeMessageVisibility, so batch
// calls need nothing more; the end-to-end test that watches the calls
// names them the same way.
var Permissions = map[string][]string{
	"SubmitFunction":     {"dynamodb:GetItem", "dynamodb:PutItem", "sqs:SendMessage"},
	"WorkerFunction":     {"dynamodb:GetItem", "dynamodb:UpdateItem"},
	"BigWorkerFunction":  {"dynamodb:GetItem", "dynamodb:UpdateItem"},
	"DeadLetterFunction": {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"},
	"StatusFunction":     {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
}

// Queues lists, for each function's logical id, the queues (logical ids)
// its role's SQS actions may name: those it sends to, those its event
// source mappings poll, or those it peeks at (the dead-letter function).
var Queues = map[string][]string{
	"SubmitFunction":     {"TasksQueue", "BigTasksQueue"},
	"WorkerFunction":     {"TasksQueue"},
	"BigWorkerFunction":  {"BigTasksQueue"},
	"DeadLetterFunction": {"DeadLetterQueue", "BigTasksDeadLetterQueue"},
}

// PollPermissions lists the actions a function's role also grants, on the
// tasks queue only, for the Lambda service to poll the queue on the
// function's behalf through the event source mapping. The code never calls
// them.
var PollPermissions = map[string][]string{
	"WorkerFunction":    {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
	"BigWorkerFunction": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
}

// DeadLetterQueueVariables are the variables through which the
// dead-letter function is given the dead-letter queues it peeks at (it
// runs on a schedule, not on an event source mapping).
var DeadLetterQueueVariables = []string{"DEAD_LETTER_QUEUE_URL", "BIG_DEAD_LETTER_QUEUE_URL"}

// EndpointVariables are the SDK's endpoint variables every function
// declares, empty on AWS, so that `sam local --env-vars` can point the
// functions at an emulator: sam local only sets variables a function
// declares.
var EndpointVariables = map[string]bool{"AWS_ENDPOINT_URL": true}

// LogPermissions and TracePermissions are what every function's role also
// grants: writing to its own log group, and sending X-Ray traces (on "*":
// X-Ray has no resource-level permissions).
var (
	LogPermissions   = []string{"logs:CreateLogStream", "logs:PutLogEvents"}
	TracePermissions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
)

// ErrToolMissing reports that python3, cfn-lint or aws-sam-translator is
// not installed.
var ErrToolMissing = errors.New("python3 with cfn-lint and aws-sam-translator is required (pip install cfn-lint aws-sam-translator)")

// Template is a CloudFormation template decoded from JSON: maps, slices,
// strings, float64 and bool. Intrinsic functions appear in their long form,
// such as {"Ref": "TasksTable"} or {"Fn::GetAtt": ["TasksTable", "Arn"]}.
type Template map[string]any

// Templates holds one template as written and as deployed.
type Templates struct {
	// Source is template.yaml as written.
	Source Template
	// Transformed is the CloudFormation the SAM transform produces with
	// the parameters' defaults, as CloudFormation would deploy it.
	Transformed Template
}

// loadScript decodes the template named by argv[1] and transforms it with
// the SAM translator. Local CodeUri paths become S3 locations first, as
// `sam package` would make them; the translator accepts nothing else. It
// prints {"source": ..., "transformed": ...}, and exits 3 when a module is
// missing.
const loadScript = `
import json, os, sys
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
try:
    from cfnlint.decode import decode
    from samtranslator.translator.transform import transform
    from samtranslator.model.exceptions import InvalidDocumentException
except ImportError as e:
    print(e, file=sys.stderr)
    sys.exit(3)

class NoManagedPolicies:
    def load(self):
        return {}

source, matches = decode(sys.argv[1])
if matches or source is None:
    print("\n".join(str(m) for m in matches) or "cannot decode template", file=sys.stderr)
    sys.exit(1)
source = json.loads(json.dumps(source, default=str))
fragment = json.loads(json.dumps(source))
fragment.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
for name, res in fragment.get("Resources", {}).items():
    if res.get("Type") == "AWS::Serverless::Function":
        res.setdefault("Properties", {})["CodeUri"] = "s3://artifacts/%s.zip" % name
try:
    transformed = transform(fragment, {}, NoManagedPolicies())
except InvalidDocumentException as e:
    print("SAM transform failed: " + "; ".join(c.message for c in e.causes), file=sys.stderr)
    sys.exit(1)
json.dump({"source": source, "transformed": transformed}, sys.stdout, default=str)
`

// Load decodes and transforms the template at path.
func Load(ctx context.Context, path string) (*Templates, error) {
	cmd := exec.CommandContext(ctx, "python3", "-c", loadScript, path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(err, exec.ErrNotFound) {
		return nil, fmt.Errorf("load %s: %w", path, ErrToolMissing)
	}
	if exitErr, ok := errors.AsType[*exec.ExitError](err); ok && exitErr.ExitCode() == 3 {
		return nil, fmt.Errorf("load %s: %w: %s", path, ErrToolMissing, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	var out struct {
		Source      Template `json:"source"`
		Transformed Template `json:"transformed"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("load %s: decode the loader's output: %w", path, err)
	}
	return &Templates{Source: out.Source, Transformed: out.Transformed}, nil
}

// Resources returns the template's resources by logical id. Entries that
// are not objects are left out.
func (t Template) Resources() map[string]map[string]any {
	rs, _ := t["Resources"].(map[string]any)
	out := make(map[string]map[string]any, len(rs))
	for id, r := range rs {
		if m, ok := r.(map[string]any); ok {
			out[id] = m
		}
	}
	return out
}

// Properties returns the Properties of the resource id, or nil.
func (t Template) Properties(id string) map[string]any {
	r := t.Resources()[id]
	p, _ := r["Properties"].(map[string]any)
	return p
}
