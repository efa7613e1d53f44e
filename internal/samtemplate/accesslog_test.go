package samtemplate

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// httpAPIContextVariables are the $context variables API Gateway documents
// for HTTP API access logs (developer guide, "Customize HTTP API access
// logs"), less the open-ended ones (authorizer.claims.<property>, a Lambda
// authorizer's authorizer.<property>). A REST API has others, such as
// $context.resourcePath, that an HTTP API leaves empty.
var httpAPIContextVariables = []string{
	"accountId", "apiId", "authorizer.error", "authorizer.principalId",
	"awsEndpointRequestId", "awsEndpointRequestId2", "customDomain.basePathMatched",
	"dataProcessed", "domainName", "domainPrefix",
	"error.message", "error.messageString", "error.responseType",
	"extendedRequestId", "httpMethod",
	"identity.accountId", "identity.caller", "identity.cognitoAuthenticationProvider",
	"identity.cognitoAuthenticationType", "identity.cognitoIdentityId",
	"identity.cognitoIdentityPoolId", "identity.principalOrgId",
	"identity.clientCert.clientCertPem", "identity.clientCert.subjectDN",
	"identity.clientCert.issuerDN", "identity.clientCert.serialNumber",
	"identity.clientCert.validity.notBefore", "identity.clientCert.validity.notAfter",
	"identity.sourceIp", "identity.user", "identity.userAgent", "identity.userArn",
	"integration.error", "integration.integrationStatus", "integration.latency",
	"integration.requestId", "integration.status",
	"integrationErrorMessage", "integrationLatency", "integrationStatus",
	"path", "protocol", "requestId", "requestTime", "requestTimeEpoch",
	"responseLatency", "responseLength", "routeKey", "stage", "status",
}

// accessLogFields are the fields an operator looks for in an access log
// line: who asked what, what came back, and what the integration (the
// function) did.
var accessLogFields = []string{"requestId", "ip", "requestTime", "httpMethod", "routeKey", "status", "protocol", "responseLength", "integrationError", "integrationLatency"}

// TestAccessLogs: the HTTP API's stage writes one JSON line per request,
// made of HTTP API $context variables, to a log group of the template
// with the functions' retention; and nothing in the template gives API
// Gateway a role for it (an HTTP API's access logs go through CloudWatch
// Logs' log delivery, not through a role as a REST API's do).
func TestAccessLogs(t *testing.T) {
	t.Parallel()
	ts := loaded(t)
	var stages []map[string]any
	for _, r := range ts.Transformed.Resources() {
		if r["Type"] == "AWS::ApiGatewayV2::Stage" {
			stages = append(stages, r)
		}
	}
	if len(stages) != 1 {
		t.Fatalf("AWS::ApiGatewayV2::Stage resources: got %d; want 1", len(stages))
	}
	settings := dig(stages[0], "Properties", "AccessLogSettings")

	arn, _ := dig(settings, "DestinationArn", "Fn::Sub").(string)
	m := regexp.MustCompile(`^arn:\$\{AWS::Partition\}:logs:\$\{AWS::Region\}:\$\{AWS::AccountId\}:log-group:\$\{(\w+)\}$`).FindStringSubmatch(arn)
	if m == nil {
		t.Fatalf("AccessLogSettings.DestinationArn: got %v; want !Sub arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${<log group>}", dig(settings, "DestinationArn"))
	}
	group := ts.Source.Resources()[m[1]]
	if group["Type"] != "AWS::Logs::LogGroup" {
		t.Fatalf("AccessLogSettings.DestinationArn names %s, a %v; want an AWS::Logs::LogGroup of the template", m[1], group["Type"])
	}
	if r, _ := ref(dig(group, "Properties", "RetentionInDays")); r != "LogRetentionInDays" {
		t.Errorf("%s RetentionInDays: got %v; want {Ref: LogRetentionInDays}, as the functions' log groups", m[1], dig(group, "Properties", "RetentionInDays"))
	}
	if name, _ := dig(group, "Properties", "LogGroupName", "Fn::Sub").(string); !strings.HasPrefix(name, "/aws/vendedlogs/") {
		t.Errorf("%s LogGroupName: got %v; want a name under /aws/vendedlogs/", m[1], dig(group, "Properties", "LogGroupName"))
	}
	if dig(group, "DeletionPolicy") != "Delete" {
		t.Errorf("%s DeletionPolicy: got %v; want Delete, as the functions' log groups", m[1], dig(group, "DeletionPolicy"))
	}

	format, _ := dig(settings, "Format").(string)
	vars := regexp.MustCompile(`\$context\.([A-Za-z0-9.]+)`).FindAllStringSubmatch(format, -1)
	used := map[string]bool{}
	for _, v := range vars {
		used[v[1]] = true
		if !slices.Contains(httpAPIContextVariables, v[1]) {
			t.Errorf("access log format uses $context.%s; want only HTTP API variables", v[1])
		}
	}
	if !used["requestId"] {
		t.Errorf("access log format lacks $context.requestId, which API Gateway requires")
	}
	// Each variable stands inside a JSON string, so any value keeps the
	// line JSON (but a quote in an error message).
	line := regexp.MustCompile(`\$context\.[A-Za-z0-9.]+`).ReplaceAllString(format, "x")
	var fields map[string]string
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		t.Fatalf("access log format %q: not one JSON object of strings: %v", format, err)
	}
	for _, f := range accessLogFields {
		if _, ok := fields[f]; !ok {
			t.Errorf("access log format has no %q field; want %v", f, accessLogFields)
		}
	}
	if strings.Contains(format, "\n") {
		t.Errorf("access log format spans lines; API Gateway wants a single line")
	}

	for id, r := range ts.Transformed.Resources() {
		if r["Type"] == "AWS::ApiGateway::Account" {
			t.Errorf("%s: an AWS::ApiGateway::Account (a REST API's logging role); an HTTP API needs none", id)
		}
		if r["Type"] != "AWS::IAM::Role" {
			continue
		}
		doc, _ := json.Marshal(dig(r, "Properties", "AssumeRolePolicyDocument"))
		if strings.Contains(string(doc), "apigateway.amazonaws.com") {
			t.Errorf("role %s trusts apigateway.amazonaws.com; an HTTP API's access logs need no role", id)
		}
	}
}
