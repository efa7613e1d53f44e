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
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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
var Permissions = map[string][]string{
	"SubmitFunction":     {"dynamodb:PutItem", "sqs:SendMessage"},
	"WorkerFunction":     {"dynamodb:UpdateItem"},
	"BigWorkerFunction":  {"dynamodb:UpdateItem"},
	"DeadLetterFunction": {"dynamodb:UpdateItem"},
	"StatusFunction":     {"dynamodb:GetItem"},
}

// Queues lists, for each function's logical id, the queues (logical ids)
// its role's SQS actions may name: those it sends to, or those its event
// source mappings poll.
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
	"WorkerFunction":     {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
	"BigWorkerFunction":  {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
	"DeadLetterFunction": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
}

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

// configMethods are the methods of internal/config.Env that read a
// variable named by their first argument.
var configMethods = map[string]bool{"Required": true, "String": true, "Duration": true, "Int": true}

// envName is the form of the variables the template sets.
var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// runtimeProvided reports whether name is one the Lambda runtime or the AWS
// SDK provides (AWS_REGION, AWS_LAMBDA_FUNCTION_NAME, _HANDLER, ...): a
// template does not set those.
func runtimeProvided(name string) bool {
	return strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "LAMBDA_") || strings.HasPrefix(name, "_")
}

// EnvReads returns, sorted, the environment variables the main package in
// dir reads: the first arguments of calls to os.Getenv and os.LookupEnv,
// and of calls to methods named Required, String, Duration and Int (the
// internal/config.Env readers), when they are string literals or string
// constants declared in the package. It parses the files the Lambda build
// compiles (linux/arm64, tag lambda.norpc), not the tests. Variables the
// Lambda runtime or the SDK provide (AWS_*, LAMBDA_*, _*) are left out.
func EnvReads(dir string) ([]string, error) {
	bctx := build.Default
	bctx.GOOS, bctx.GOARCH, bctx.CgoEnabled = "linux", "arm64", false
	bctx.BuildTags = []string{"lambda.norpc"}
	pkg, err := bctx.ImportDir(dir, 0)
	if _, ok := errors.AsType[*build.NoGoError](err); ok {
		return nil, fmt.Errorf("%s has no Go files: its main package is missing", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		files = append(files, f)
	}
	consts := stringConsts(files)
	seen := map[string]bool{}
	var errs []error
	for _, f := range files {
		osName := importName(f, "os")
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkgIdent, _ := sel.X.(*ast.Ident)
			isOS := pkgIdent != nil && osName != "" && pkgIdent.Name == osName &&
				(sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv")
			if !isOS && !configMethods[sel.Sel.Name] {
				return true
			}
			name, ok := stringValue(call.Args[0], consts)
			switch {
			case !ok && isOS:
				errs = append(errs, fmt.Errorf("%s: os.%s with a name that is not a string constant", fset.Position(call.Pos()), sel.Sel.Name))
			case ok && envName.MatchString(name) && !runtimeProvided(name):
				seen[name] = true
			}
			return true
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// importName returns the name under which f imports path, or "".
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p != path {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return path
	}
	return ""
}

// stringConsts returns the package's constants whose value is a string
// literal.
func stringConsts(files []*ast.File) map[string]string {
	consts := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						break
					}
					if v, ok := stringValue(vs.Values[i], nil); ok {
						consts[name.Name] = v
					}
				}
			}
		}
	}
	return consts
}

// stringValue returns the value of a string literal or of an identifier
// naming one of consts.
func stringValue(e ast.Expr, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[e.Name]
		return s, ok
	}
	return "", false
}
