package samlocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/lambdainvoke"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/rie"
	"github.com/asyncprime/asyncprime/internal/samlocal"
	"github.com/asyncprime/asyncprime/internal/samtemplate"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const moduleRoot = "../.."

// TestSAMLocalEnvironmentEndToEnd renders the environment sam local gives
// each function of template.yaml (its declared variables, overridden by the
// env file the trigger writes, undeclared ones ignored), checks it, and runs
// the built bootstraps under the RIE with exactly that environment: the
// tutorial's session reaches SUCCESS, the worker triggered through the
// Invoke API as `make sam-local` does. On linux/amd64 the bootstraps are
// the ones `make sam-local` builds for x86_64 Docker without QEMU
// (sam.mk with LAMBDA_ARCH=x86_64); elsewhere they are built for the host.
func TestSAMLocalEnvironmentEndToEnd(t *testing.T) {
	t.Parallel()
	rieBin := awstest.RIE(t, moduleRoot)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ts, err := samtemplate.Load(ctx, moduleRoot+"/template.yaml")
	if errors.Is(err, samtemplate.ErrToolMissing) {
		awstest.Unavailable(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg, res := awstest.Provisioned(t)
	endpoint := awstest.Endpoint(cfg)
	// What `make sam-local` writes, with the emulator as the functions
	// reach it here (host.docker.internal from a container).
	file, err := samlocal.NewEnvFile(res, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{}
	for name, p := range dig(ts.Transformed, "Parameters") {
		params[name] = p.(map[string]any)["Default"]
	}

	dir := t.TempDir()
	logs := testkit.Output()
	instances := map[string]*rie.Instance{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(samtemplate.Functions))
	for logical, path := range samtemplate.Functions {
		props := ts.Transformed.Properties(logical)
		vars, _ := props["Environment"].(map[string]any)["Variables"].(map[string]any)
		fn := samlocal.Function{LogicalID: logical, Variables: vars, Timeout: 30, MemorySize: 128}
		env := samlocal.Resolve(fn, params, file, nil, nil)

		// What the function sees: no logical id, no blank, nothing undeclared.
		for name := range vars {
			if v := env[name]; v == "" || v == "TasksTable" || v == "TasksQueue" {
				t.Errorf("%s: %s=%q under sam local; want a real value", logical, name, v)
			}
		}
		for name := range env {
			if _, declared := vars[name]; !declared && !strings.HasPrefix(name, "AWS_") {
				t.Errorf("%s: %s is set but not declared", logical, name)
			}
		}
		fnName := strings.TrimPrefix(path, "functions/")
		wg.Go(func() {
			bootstrap, err := buildBootstrap(ctx, dir, logical, fnName)
			if err != nil {
				errs <- err
				return
			}
			in, err := rie.Start(ctx, rie.Function{
				Name: logical, Bootstrap: bootstrap, RIE: rieBin, Timeout: 30 * time.Second, Stdout: logs,
				Environ: samlocal.Environ(env), // exactly sam local's, nothing of this process's
			})
			if err != nil {
				errs <- err
				return
			}
			t.Cleanup(func() { in.Stop() })
			mu.Lock()
			instances[logical] = in
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if t.Failed() {
		return
	}

	// start-api's part: HTTP to the two API functions.
	srv := httptest.NewServer(&local.API{
		Submit: rie.HTTPHandler(instances["SubmitFunction"]),
		Status: rie.HTTPHandler(instances["StatusFunction"]),
	})
	defer srv.Close()
	// The trigger's part: the queue, through the Invoke API, to the worker.
	worker := &lambdainvoke.Handler{
		Client:       lambdainvoke.NewClient(cfg, instances["WorkerFunction"].Endpoint()),
		FunctionName: "function",
	}
	poller := &local.Poller{
		Queue:   sqsqueue.New(sqs.NewFromConfig(cfg), res.QueueURL, sqsqueue.WithRegion(cfg.Region)),
		Handler: worker.Handle, BatchSize: 10, WaitTime: time.Second, Concurrency: 1, FunctionTimeout: 40 * time.Second,
	}
	pctx, stop := context.WithCancel(context.Background())
	polled := make(chan struct{})
	go func() { poller.Run(pctx); close(polled) }()
	defer func() { stop(); <-polled }()

	resp, err := http.Post(srv.URL+"/", "application/json", strings.NewReader(`{"number": 11}`))
	if err != nil {
		t.Fatal(err)
	}
	var accepted api.SubmitResponse
	json.NewDecoder(resp.Body).Decode(&accepted)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !task.ValidID(accepted.TaskID) {
		t.Fatalf("POST / = %d %+v; want 202 with a task id", resp.StatusCode, accepted)
	}
	var got api.StatusResponse
	testkit.Eventually(t, time.Minute, func() bool {
		resp, err := http.Get(srv.URL + "/" + accepted.TaskID)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got = api.StatusResponse{}
		json.NewDecoder(resp.Body).Decode(&got)
		return got.Status.Final()
	}, "task %s final", accepted.TaskID)
	if got.Status != task.StatusSuccess || got.Result == nil || got.Result.Number != "11" || !got.Result.IsPrime {
		t.Fatalf("GET /%s = %+v; want SUCCESS {number: 11, is_prime: true}", accepted.TaskID, got)
	}
}

// buildBootstrap builds function logical (main package functions/fn) into
// dir as sam build does for x86_64, with sam.mk and LAMBDA_ARCH=x86_64, so
// that the RIE runs the bootstrap sam local would run; where that one
// cannot run (not linux/amd64), for this host with rie.Build.
func buildBootstrap(ctx context.Context, dir, logical, fn string) (string, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return rie.Build(ctx, moduleRoot, dir, fn)
	}
	artifacts := filepath.Join(dir, logical)
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-f", "sam.mk", "build-"+logical, "ARTIFACTS_DIR="+artifacts)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "LAMBDA_ARCH=x86_64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("LAMBDA_ARCH=x86_64 make -f sam.mk build-%s: %w\n%s", logical, err, out)
	}
	return filepath.Join(artifacts, "bootstrap"), nil
}

// dig returns the object at key of m, or nil.
func dig(m map[string]any, key string) map[string]any {
	v, _ := m[key].(map[string]any)
	return v
}
