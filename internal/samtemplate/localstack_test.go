package samtemplate

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
