package samtemplate

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestFunctionsLinkOnlyTheirClients: each function's binary carries only
// the SDK service clients its code calls, which keeps it small and its cold
// start short.
func TestFunctionsLinkOnlyTheirClients(t *testing.T) {
	t.Parallel()
	want := map[string][]string{
		"submit": {"dynamodb", "sqs"},
		"worker": {"dynamodb"},
		"status": {"dynamodb"},
	}
	for fn, services := range want {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("go", "list", "-deps", "./functions/"+fn)
			cmd.Dir = root
			cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			var got []string
			for _, pkg := range strings.Fields(string(out)) {
				if svc, ok := strings.CutPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/"); ok && !strings.Contains(svc, "/") {
					switch svc {
					case "sts", "sso", "ssooidc", "signin": // the config package's credential providers
						continue
					}
					got = append(got, svc)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, services) {
				t.Errorf("functions/%s links the SDK clients %v; want %v", fn, got, services)
			}
		})
	}
}
