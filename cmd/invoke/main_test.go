package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/rie"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestInvoke runs what `make invoke FN=...` runs, for each function with its
// sample event, and checks the responses the README promises.
func TestInvoke(t *testing.T) {
	rieBin, err := filepath.Abs(awstest.RIE(t, "../.."))
	if err != nil {
		t.Fatal(err)
	}
	endpoint := awstest.Endpoint(awstest.Config(t))
	dir := t.TempDir()
	invoke := filepath.Join(dir, "invoke")
	if out, err := exec.Command("go", "build", "-o", invoke, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, fn := range []string{rie.Submit, rie.Status, rie.Worker} {
		bootstrap, err := rie.Build(t.Context(), "../..", dir, fn)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(invoke, "-fn", fn, "-bootstrap", bootstrap, "-rie", rieBin)
		cmd.Dir = "../.." // where events/ is
		cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+endpoint, "QUEUE_URL=", "TABLE_NAME=")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("invoke -fn %s: %v\n%s", fn, err, stderr.String())
		}
		switch fn {
		case rie.Submit, rie.Status:
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("invoke -fn %s printed %s: %v", fn, out, err)
			}
			ok := resp.StatusCode == 202 && strings.Contains(resp.Body, `"task_id"`)
			if fn == rie.Status {
				ok = resp.StatusCode == 200 || resp.StatusCode == 404
			}
			if !ok {
				t.Errorf("invoke -fn %s = %d %s", fn, resp.StatusCode, resp.Body)
			}
		case rie.Worker:
			var resp events.SQSEventResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("invoke -fn worker printed %s: %v", out, err)
			}
			if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "00000000-0bad-4bad-8bad-00000000dead" {
				t.Errorf("invoke -fn worker = %+v; want only the poison record", resp.BatchItemFailures)
			}
		}
	}
}
