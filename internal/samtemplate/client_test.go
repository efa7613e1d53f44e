package samtemplate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/apitest"
)

// TestSpecMatchesTemplate fails when the routes, methods or statuses of
// the deployed HTTP API and of openapi.yaml differ. The catch-all routes
// (ANY and $default, which answer 405 and 404) are the template's only
// extra routes.
func TestSpecMatchesTemplate(t *testing.T) {
	t.Parallel()
	spec, err := apitest.Spec()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			want[method+" "+path] = slices.Sorted(maps.Keys(op.Responses.Map()))
		}
	}
	got := map[string][]string{}
	paths, _ := httpAPIBody(t, loaded(t).Transformed)["paths"].(map[string]any)
	for path, ops := range paths {
		ops, _ := ops.(map[string]any)
		for method, op := range ops {
			if strings.HasPrefix(method, "x-amazon-apigateway-") {
				continue
			}
			resp, _ := dig(op, "responses").(map[string]any)
			got[strings.ToUpper(method)+" "+path] = slices.Sorted(maps.Keys(resp))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("template.yaml routes and statuses:\n%v\nopenapi.yaml:\n%v\nwant the same", got, want)
	}
}

// TestAuthModes renders the template with AuthMode NONE, IAM and JWT
// (through the SAM transform and cfn-lint, as each would be deployed) and
// checks each route's authorization: none, SigV4, or the JWT authorizer
// with the given issuer and audience; but none for the OPTIONS routes,
// which take the CORS preflights the ANY routes' authorizer would refuse.
func TestAuthModes(t *testing.T) {
	t.Parallel()
	cfnLint := lookPath(t, "cfn-lint")
	src, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	const issuer, audience = "https://issuer.example.com/pool", "client-123"
	for _, mode := range []string{"NONE", "IAM", "JWT"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			text := setDefault(t, string(src), "AuthMode", "NONE", mode)
			if mode == "JWT" {
				text = setDefault(t, text, "JwtIssuer", `""`, `"`+issuer+`"`)
				text = setDefault(t, text, "JwtAudience", `""`, `"`+audience+`"`)
			}
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), loadTimeout)
			defer cancel()
			ts, err := Load(ctx, path)
			cancel()
			if err != nil {
				t.Fatalf("SAM transform with AuthMode %s: %v", mode, err)
			}
			transformed := filepath.Join(t.TempDir(), "transformed.json")
			b, _ := json.Marshal(ts.Transformed)
			if err := os.WriteFile(transformed, b, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel = context.WithTimeout(t.Context(), loadTimeout)
			defer cancel()
			if out, err := exec.CommandContext(ctx, cfnLint, "--", path, transformed).CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("cfn-lint with AuthMode %s: %v\n%s", mode, err, out)
			}
			conds := map[string]bool{"AuthIam": mode == "IAM", "AuthJwt": mode == "JWT"}
			body, _ := resolveIf(httpAPIBody(t, ts.Transformed), conds).(map[string]any)
			wantScheme := map[string]string{"NONE": "", "IAM": "sigv4", "JWT": "jwt"}[mode]
			paths, _ := body["paths"].(map[string]any)
			routes := 0
			for path, ops := range paths {
				ops, _ := ops.(map[string]any)
				for method, op := range ops {
					routes++
					var got []string
					for _, req := range list(dig(op, "security")) {
						for name := range req.(map[string]any) {
							got = append(got, name)
						}
					}
					want := wantScheme
					if method == "options" {
						// A CORS preflight carries no credentials: open,
						// and answered by the route's function.
						want = ""
						if dig(op, "x-amazon-apigateway-integration") == nil {
							t.Errorf("options %s: no integration; want the function's", path)
						}
					}
					if strings.Join(got, ",") != want {
						t.Errorf("%s %s: security %v; want %q", method, path, got, want)
					}
				}
			}
			if routes != 8 {
				t.Errorf("found %d routes; want 8", routes)
			}
			schemes, _ := dig(body, "components", "securitySchemes").(map[string]any)
			switch mode {
			case "NONE":
				if body["components"] != nil {
					t.Errorf("components = %v; want none", body["components"])
				}
			case "IAM":
				if got := dig(schemes, "sigv4", "x-amazon-apigateway-authtype"); got != "awsSigv4" || len(schemes) != 1 {
					t.Errorf("securitySchemes = %v; want sigv4 (awsSigv4) only", schemes)
				}
			case "JWT":
				auth := dig(schemes, "jwt", "x-amazon-apigateway-authorizer")
				if iss, _ := ref(dig(auth, "jwtConfiguration", "issuer")); iss != "JwtIssuer" || dig(auth, "type") != "jwt" || len(schemes) != 1 {
					t.Errorf("securitySchemes = %v; want one jwt authorizer with issuer {Ref: JwtIssuer}", schemes)
				}
				if aud, _ := ref(dig(auth, "jwtConfiguration", "audience", "0")); aud != "JwtAudience" {
					t.Errorf("jwt audience = %v; want [{Ref: JwtAudience}]", dig(auth, "jwtConfiguration", "audience"))
				}
				if dig(auth, "identitySource") != "$request.header.Authorization" {
					t.Errorf("jwt identitySource = %v; want $request.header.Authorization", dig(auth, "identitySource"))
				}
			}
		})
	}
	// The tutorial's default stays open.
	if got := dig(loaded(t).Source, "Parameters", "AuthMode", "Default"); got != "NONE" {
		t.Errorf("AuthMode default = %v; want NONE", got)
	}
	if got := fmt.Sprint(dig(loaded(t).Source, "Parameters", "AuthMode", "AllowedValues")); got != "[NONE IAM JWT]" {
		t.Errorf("AuthMode AllowedValues = %s; want [NONE IAM JWT]", got)
	}
}

// setDefault changes the Default of one parameter in the template's text.
func setDefault(t *testing.T, text, param, from, to string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^(  ` + param + `:\n(?:    .*\n)*?    Default: )` + regexp.QuoteMeta(from) + `$`)
	if !re.MatchString(text) {
		t.Fatalf("template.yaml: parameter %s has no Default: %s", param, from)
	}
	return re.ReplaceAllString(text, "${1}"+to)
}

// resolveIf evaluates Fn::If on the named conditions, dropping what
// resolves to AWS::NoValue, as CloudFormation does. Fn::If on other
// conditions is left as it is.
func resolveIf(v any, conds map[string]bool) any {
	switch x := v.(type) {
	case map[string]any:
		if args, ok := x["Fn::If"].([]any); ok && len(x) == 1 && len(args) == 3 {
			if name, _ := args[0].(string); name != "" {
				if c, known := conds[name]; known {
					if c {
						return resolveIf(args[1], conds)
					}
					return resolveIf(args[2], conds)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			if r := resolveIf(e, conds); !isNoValue(r) {
				out[k] = r
			}
		}
		return out
	case []any:
		var out []any
		for _, e := range x {
			if r := resolveIf(e, conds); !isNoValue(r) {
				out = append(out, r)
			}
		}
		return out
	}
	return v
}

func isNoValue(v any) bool {
	name, ok := ref(v)
	return ok && name == "AWS::NoValue"
}
