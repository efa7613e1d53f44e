package samtemplate

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/testkit"
)

// localStackService maps the service part of a resource type
// (AWS::<Service>::...) to LocalStack's name for it where that is not the
// part in lower case (SERVICES takes LocalStack's names).
var localStackService = map[string]string{
	"CertificateManager":     "acm",
	"ElasticLoadBalancingV2": "elbv2",
}

// deployServices are the services a deploy itself calls, whatever the
// template holds: CloudFormation, S3 for the artifacts bucket (sam deploy's
// resolve_s3 makes a stack with one) and STS (the SAM CLI and samlocal ask
// who the caller is).
var deployServices = []string{"cloudformation", "s3", "sts"}

// composeServices returns the SERVICES of localstack/docker-compose.yml.
func composeServices(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "localstack", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+SERVICES:\s*"?([a-z0-9,-]+)"?\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("localstack/docker-compose.yml sets no SERVICES")
	}
	set := map[string]bool{}
	for s := range strings.SplitSeq(string(m[1]), ",") {
		set[s] = true
	}
	return set
}

// TestLocalStackServices: LocalStack loads only the services SERVICES
// names (STRICT_SERVICE_LOADING is on by default), so a deploy of the
// stack fails on the first resource whose service is missing. Every
// service of the transformed template's resource types must be there, with
// those the deploy calls and KMS, which a table encrypted at rest
// (SSESpecification) may call.
func TestLocalStackServices(t *testing.T) {
	t.Parallel()
	ts := loaded(t)
	need := map[string]string{} // service -> why
	for _, s := range deployServices {
		need[s] = "the deploy calls it"
	}
	for id, r := range ts.Transformed.Resources() {
		typ, _ := r["Type"].(string)
		parts := strings.Split(typ, "::")
		if len(parts) != 3 || parts[0] != "AWS" {
			t.Errorf("resource %s has type %q; want AWS::<Service>::<Resource>", id, typ)
			continue
		}
		svc, ok := localStackService[parts[1]]
		if !ok {
			svc = strings.ToLower(parts[1])
		}
		need[svc] = typ + " " + id
		if typ == "AWS::DynamoDB::Table" && dig(r, "Properties", "SSESpecification", "SSEEnabled") == true {
			need["kms"] = id + " SSESpecification"
		}
	}
	have := composeServices(t)
	for svc, why := range need {
		if !have[svc] {
			t.Errorf("localstack/docker-compose.yml SERVICES lacks %s (for %s); want it listed", svc, why)
		}
	}
}

// TestComposeRequiresNoVariable: Compose resolves the whole file for every
// command, so a required variable (${VAR:?...} or ${VAR?...}) would make
// `docker compose ... down -v` and `logs -f` fail in a shell without it.
// The token is checked by make localstack-up instead, before Compose runs.
func TestComposeRequiresNoVariable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root, "localstack", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*:?\?`).MatchString(line) {
			t.Errorf("localstack/docker-compose.yml:%d requires a variable: %s; want ${VAR:-} (checked by make localstack-up)", i+1, strings.TrimSpace(line))
		}
	}
}

// TestLocalStackUpNeedsToken: without LOCALSTACK_AUTH_TOKEN, make
// localstack-up stops before Compose runs and says what is missing.
func TestLocalStackUpNeedsToken(t *testing.T) {
	t.Parallel()
	makePath := lookPath(t, "make")
	cmd := exec.CommandContext(t.Context(), makePath, "--no-print-directory", "localstack-up")
	cmd.Dir = root
	// No docker on this PATH: were the check skipped, the command would
	// fail differently.
	cmd.Env = []string{"PATH=" + filepath.Dir(makePath) + ":/bin:/usr/bin", "HOME=" + t.TempDir(), "DOCKER_HOST=unix:///nonexistent"}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "LOCALSTACK_AUTH_TOKEN is not set") {
		t.Errorf("make localstack-up without LOCALSTACK_AUTH_TOKEN: %v\n%s\nwant it to stop, saying LOCALSTACK_AUTH_TOKEN is not set", err, out)
	}
	if strings.Contains(string(out), "docker compose") {
		t.Errorf("make localstack-up ran docker compose without a token:\n%s", out)
	}
}

// TestLocalStackDeployChecksTheAPI runs localstack/deploy.sh with fake
// curl, samlocal and awslocal: it prints the HTTP API's URL alone on
// standard output, unless the API the stack names does not exist (a
// LocalStack plan without API Gateway v2 may skip it): then it stops,
// saying so.
func TestLocalStackDeployChecksTheAPI(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		apiExists bool
	}{{"API created", true}, {"API skipped", false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getAPI := "exit 0"
			if !tt.apiExists {
				getAPI = `echo "An error occurred (NotFoundException) when calling the GetApi operation" >&2; exit 254`
			}
			bin := testkit.FakeBin(t, map[string]string{
				"curl":     "exit 0",
				"samlocal": "exit 0",
				"awslocal": `case "$1 $2" in
"cloudformation describe-stacks") echo abc123 ;;
"apigatewayv2 get-api") ` + getAPI + ` ;;
*) exit 2 ;;
esac`,
			})
			cmd := exec.CommandContext(t.Context(), "bash", filepath.Join(root, "localstack", "deploy.sh"))
			cmd.Env = []string{"PATH=" + bin + ":/bin:/usr/bin", "HOME=" + t.TempDir()}
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			switch {
			case tt.apiExists && (err != nil || stdout.String() != "http://abc123.execute-api.localhost.localstack.cloud:4566\n"):
				t.Errorf("deploy.sh = %v, printing %q (stderr %q); want the API's URL alone", err, stdout.String(), stderr.String())
			case !tt.apiExists && (err == nil || stdout.String() != "" || !strings.Contains(stderr.String(), "HTTP API (abc123) does not exist")):
				t.Errorf("deploy.sh = %v, printing %q (stderr %q); want it to stop, saying the HTTP API does not exist", err, stdout.String(), stderr.String())
			}
		})
	}
}
