package rie_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/apitest"
	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/procs"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/rie"
	"github.com/asyncprime/asyncprime/internal/samtemplate"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const moduleRoot = "../.."

// stack builds the three functions for this host and runs each under the
// Runtime Interface Emulator against the emulator's SQS and DynamoDB.
type stack struct {
	submit, worker, status *rie.Instance
	queue                  *sqsqueue.Queue
	// calls records, per function, the AWS API actions its code made over
	// the wire, as IAM names (dynamodb:PutItem).
	calls *callRecorder

	cfg      aws.Config
	res      provision.Resources
	endpoint string // the emulator's
}

// callRecorder is a reverse proxy per function in front of the emulator
// that notes each request's X-Amz-Target.
type callRecorder struct {
	mu    sync.Mutex
	calls map[string]map[string]bool
	// bills counts, per function, the billable requests and capacity
	// units (see bill) of the calls since the last reset.
	bills map[string]*bill
}

func (r *callRecorder) endpoint(t *testing.T, fn, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		actions := iamActions(req)
		r.count(fn, req)
		r.mu.Lock()
		for _, action := range actions {
			if r.calls[fn] == nil {
				r.calls[fn] = map[string]bool{}
			}
			r.calls[fn][action] = true
		}
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// iamActions returns the IAM actions that authorise a request: those of
// the items of a TransactWriteItems (a Put is dynamodb:PutItem), the
// single-message action of an SQS batch call (SendMessageBatch is
// sqs:SendMessage), or the one named by the target.
func iamActions(req *http.Request) []string {
	target := req.Header.Get("X-Amz-Target")
	switch {
	case strings.HasSuffix(target, ".TransactWriteItems"):
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		var in struct{ TransactItems []map[string]json.RawMessage }
		json.Unmarshal(b, &in)
		var out []string
		for _, it := range in.TransactItems {
			for kind := range it {
				out = append(out, map[string]string{"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem",
					"Delete": "dynamodb:DeleteItem", "ConditionCheck": "dynamodb:ConditionCheckItem"}[kind])
			}
		}
		return out
	case strings.HasPrefix(target, "AmazonSQS.") && strings.HasSuffix(target, "Batch"):
		target = strings.TrimSuffix(target, "Batch")
	}
	if a, ok := iamAction(target); ok {
		return []string{a}
	}
	return nil
}

// iamAction maps "DynamoDB_20120810.PutItem" to "dynamodb:PutItem" and
// "AmazonSQS.SendMessage" to "sqs:SendMessage".
func iamAction(target string) (string, bool) {
	svc, op, ok := strings.Cut(target, ".")
	switch {
	case !ok:
		return "", false
	case strings.HasPrefix(svc, "DynamoDB_"):
		return "dynamodb:" + op, true
	case svc == "AmazonSQS":
		return "sqs:" + op, true
	}
	return "", false
}

func (r *callRecorder) actions(fn string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for a := range r.calls[fn] {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// startStack starts the three functions with the template's timeouts,
// except those given in longer.
func startStack(t *testing.T, longer map[string]time.Duration) *stack {
	t.Helper()
	rieBin := awstest.RIE(t, moduleRoot)
	cfg, res := awstest.Provisioned(t)
	endpoint := awstest.Endpoint(cfg)
	dir := t.TempDir()
	s := &stack{
		queue: sqsqueue.New(sqs.NewFromConfig(cfg), res.QueueURL, sqsqueue.WithRegion(cfg.Region)),
		calls: &callRecorder{calls: map[string]map[string]bool{}, bills: map[string]*bill{}},
		cfg:   cfg, res: res, endpoint: endpoint,
	}
	logs := testkit.Output()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, p := range []struct {
		fn string
		in **rie.Instance
	}{{rie.Submit, &s.submit}, {rie.Worker, &s.worker}, {rie.Status, &s.status}} {
		wg.Go(func() {
			bootstrap, err := rie.Build(t.Context(), moduleRoot, dir, p.fn)
			if err != nil {
				errs <- err
				return
			}
			timeout := cmp.Or(longer[p.fn], rie.TemplateTimeout(p.fn))
			in, err := rie.StartFunction(t.Context(), rieBin, bootstrap, p.fn, res, cfg, s.calls.endpoint(t, p.fn, endpoint), timeout, logs)
			if err != nil {
				errs <- err
				return
			}
			t.Cleanup(func() { in.Stop() })
			*p.in = in
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return s
}

// TestDeployedShapeEndToEnd runs the built bootstraps as Lambda would,
// with the local mode in API Gateway's and the SQS event source mapping's
// place: HTTP → submit → SQS → worker → DynamoDB → status.
func TestDeployedShapeEndToEnd(t *testing.T) {
	t.Parallel()
	s := startStack(t, nil)
	srv := httptest.NewServer(&local.API{Submit: rie.HTTPHandler(s.submit), Status: rie.HTTPHandler(s.status)})
	defer srv.Close()
	poller := &local.Poller{Queue: s.queue, Handler: rie.SQSHandler(s.worker), BatchSize: 10, WaitTime: time.Second, Concurrency: 1, FunctionTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	polled := make(chan struct{})
	go func() { poller.Run(ctx); close(polled) }()
	defer func() { cancel(); <-polled }()

	// The tutorial's curl session.
	resp, b := apitest.Do(t, http.MethodPost, srv.URL+"/", `{"number":  11}`, nil)
	var accepted api.SubmitResponse
	json.Unmarshal(b, &accepted)
	if resp.StatusCode != http.StatusAccepted || !task.ValidID(accepted.TaskID) {
		t.Fatalf("POST / = %d %+v; want 202 with a task id", resp.StatusCode, accepted)
	}
	var got api.StatusResponse
	testkit.Eventually(t, 2*time.Minute, func() bool {
		_, b := apitest.Do(t, http.MethodGet, srv.URL+"/"+accepted.TaskID, "", nil)
		got = api.StatusResponse{}
		json.Unmarshal(b, &got)
		return got.Status.Final()
	}, "task %s finished", accepted.TaskID)
	if got.Status != task.StatusSuccess || got.Result == nil || got.Result.Number != "11" || !got.Result.IsPrime {
		t.Fatalf("GET /%s = %+v; want SUCCESS {number: 11, is_prime: true}", accepted.TaskID, got)
	}

	// A batch: one item (PutItem) for its tasks until each is written.
	// The worker starts the task of a number beyond 64 bits (GetItem of the
	// batch item, then UpdateItem); status reads each task with
	// BatchGetItem.
	const mersenne = "170141183460469231731687303715884105727" // 2^127 - 1, a prime
	resp, b = apitest.Do(t, http.MethodPost, srv.URL+"/", `{"numbers": [12, `+mersenne+`]}`, nil)
	var pair api.BatchResponse
	json.Unmarshal(b, &pair)
	if resp.StatusCode != http.StatusAccepted || len(pair.TaskIDs) != 2 {
		t.Fatalf("POST batch of 2 = %d %s; want 202 with 2 task ids", resp.StatusCode, b)
	}
	for i, want := range []struct {
		number  task.Number
		isPrime bool
	}{{"12", false}, {mersenne, true}} {
		var got api.StatusResponse
		testkit.Eventually(t, 2*time.Minute, func() bool {
			_, b := apitest.Do(t, http.MethodGet, srv.URL+"/"+pair.TaskIDs[i], "", nil)
			got = api.StatusResponse{}
			json.Unmarshal(b, &got)
			return got.Status.Final()
		}, "task %s finished", pair.TaskIDs[i])
		if got.Status != task.StatusSuccess || got.Result == nil || got.Result.Number != want.number || got.Result.IsPrime != want.isPrime {
			t.Errorf("GET /%s = %+v; want SUCCESS {number: %s, is_prime: %v}", pair.TaskIDs[i], got, want.number, want.isPrime)
		}
	}

	// A batch with an idempotency key (PutItem and SendMessageBatch), its
	// retry, and a cancel: every answer as openapi.yaml says.
	post := func(body, key string) (int, []byte) {
		resp, b := apitest.Do(t, http.MethodPost, srv.URL+"/", body, map[string]string{"Idempotency-Key": key})
		return resp.StatusCode, b
	}
	key := "rie-" + task.NewID()
	code, first := post(`{"numbers": [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]}`, key)
	if code != http.StatusAccepted {
		t.Fatalf("POST batch = %d %s; want 202", code, first)
	}
	if code, again := post(`{"numbers": [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]}`, key); code != http.StatusAccepted || string(again) != string(first) {
		t.Errorf("retried batch = %d %s; want 202 %s", code, again, first)
	}
	var batch api.BatchResponse
	json.Unmarshal(first, &batch)
	if len(batch.TaskIDs) != 12 {
		t.Fatalf("batch answered %d task ids; want 12", len(batch.TaskIDs))
	}
	for _, id := range batch.TaskIDs {
		resp, _ := apitest.Do(t, http.MethodDelete, srv.URL+"/"+id, "", nil)
		// The worker may have finished it first: 200 (REVOKED) or 409.
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusConflict {
			t.Errorf("DELETE /%s = %d; want 200 or 409", id, resp.StatusCode)
		}
	}

	// Errors come back from the function as API Gateway would send them.
	resp, _ = apitest.Do(t, http.MethodGet, srv.URL+"/"+task.NewID(), "", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET unknown task = %d; want 404", resp.StatusCode)
	}

	// Each function made exactly the calls its role in template.yaml allows.
	for fn, logical := range map[string]string{rie.Submit: "SubmitFunction", rie.Worker: "WorkerFunction", rie.Status: "StatusFunction"} {
		want := slices.Sorted(slices.Values(samtemplate.Permissions[logical]))
		if got := s.calls.actions(fn); !slices.Equal(got, want) {
			t.Errorf("%s made the calls %v over the wire; its role in template.yaml grants %v", fn, got, want)
		}
	}
}

// TestSampleEvents invokes each function with its events/ file, as
// `make invoke` does.
func TestSampleEvents(t *testing.T) {
	t.Parallel()
	s := startStack(t, nil)
	read := func(name string) []byte {
		b, err := os.ReadFile(moduleRoot + "/events/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var submitResp events.APIGatewayV2HTTPResponse
	mustInvoke(t, s.submit, read("submit.json"), &submitResp)
	if submitResp.StatusCode != http.StatusAccepted || !strings.Contains(submitResp.Body, `"task_id"`) {
		t.Errorf("submit = %d %s; want 202 with a task_id", submitResp.StatusCode, submitResp.Body)
	}
	var statusResp events.APIGatewayV2HTTPResponse
	mustInvoke(t, s.status, read("status.json"), &statusResp)
	if statusResp.StatusCode != http.StatusNotFound && statusResp.StatusCode != http.StatusOK {
		t.Errorf("status = %d %s; want 200 or 404", statusResp.StatusCode, statusResp.Body)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(read("worker.json"), &ev); err != nil {
		t.Fatal(err)
	}
	var poison []string
	for _, r := range ev.Records {
		if _, err := task.DecodeMessage(r.Body); err != nil {
			poison = append(poison, r.MessageId)
		}
	}
	var workerResp events.SQSEventResponse
	mustInvoke(t, s.worker, read("worker.json"), &workerResp)
	var failed []string
	for _, f := range workerResp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if len(poison) != 1 || strings.Join(failed, ",") != poison[0] {
		t.Errorf("worker batchItemFailures = %v; want only the poison record %v", failed, poison)
	}
}

func mustInvoke(t *testing.T, in *rie.Instance, event []byte, out any) {
	t.Helper()
	b, err := in.Invoke(t.Context(), event)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("response %s: %v", b, err)
	}
}

// BenchmarkColdStart measures, for each function, the time from its first
// invocation — when the emulator starts the bootstrap process — to its first
// response (ns/op; the emulator's own start is not counted), and splits it
// at the bootstrap's first request for an event (GET
// /runtime/invocation/next), which it makes when its init is done:
// init-ms is process start, package initialisation and main's set-up
// (configuration, SDK clients); invoke-ms the first invocation, until the
// bootstrap posts its response. A proxy in front of the emulator's Runtime
// API sees those requests; a one-line shell wrapper points the bootstrap at
// it (its exec is counted in init-ms). The function sees only the
// environment Lambda would give it (PATH, the template's variables, region,
// credentials, endpoint), not this machine's: AWS_CA_BUNDLE, say, would add
// the parse of a CA bundle to every init.
func BenchmarkColdStart(b *testing.B) {
	rieBin := awstest.RIE(b, moduleRoot)
	cfg, res := awstest.Provisioned(b)
	endpoint := awstest.Endpoint(cfg)
	dir := b.TempDir()
	for _, fn := range []string{rie.Submit, rie.Worker, rie.Status} {
		bootstrap, err := rie.Build(b.Context(), moduleRoot, dir, fn)
		if err != nil {
			b.Fatal(err)
		}
		env, err := rie.Env(b.Context(), fn, res, cfg, endpoint)
		if err != nil {
			b.Fatal(err)
		}
		sample, err := os.ReadFile(moduleRoot + "/events/" + fn + ".json")
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range []struct {
			name  string
			event []byte
		}{
			// One round trip to the emulator's DynamoDB (and SQS for submit).
			{"sample-event", sample},
			// No AWS call at all: a request refused by validation, or an
			// empty batch. This is the function's own cold start.
			{"no-backend-call", noBackendEvent(b, fn, sample)},
		} {
			b.Run(fn+"/"+ev.name, func(b *testing.B) {
				var initTime, invokeTime time.Duration
				for b.Loop() {
					b.StopTimer()
					rt := startRuntimeProxy(b)
					wrapper := filepath.Join(b.TempDir(), "bootstrap")
					script := "#!/bin/sh\nAWS_LAMBDA_RUNTIME_API=" + rt.addr + " exec " + bootstrap + "\n"
					if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
						b.Fatal(err)
					}
					in, err := rie.Start(b.Context(), rie.Function{Name: fn, Bootstrap: wrapper, RIE: rieBin, Env: env,
						Timeout: 5 * time.Second, RuntimeAPI: rt.port, Environ: []string{"PATH=" + os.Getenv("PATH")}})
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer() // the emulator starts the bootstrap on the first invocation
					start := time.Now()
					if _, err := in.Invoke(b.Context(), ev.event); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					next, done := rt.times()
					initTime += next.Sub(start)
					invokeTime += done.Sub(next)
					in.Stop()
					b.StartTimer()
				}
				b.ReportMetric(float64(initTime.Microseconds())/1000/float64(b.N), "init-ms")
				b.ReportMetric(float64(invokeTime.Microseconds())/1000/float64(b.N), "invoke-ms")
			})
		}
	}
}

// runtimeProxy forwards the bootstrap's Runtime API requests to the
// emulator and notes when the first request for an event and the first
// response arrive.
type runtimeProxy struct {
	addr, target string      // its own address; the emulator's Runtime API
	port         *procs.Port // target's reservation
	mu           sync.Mutex
	next, done   time.Time
}

func startRuntimeProxy(b *testing.B) *runtimeProxy {
	b.Helper()
	port, err := procs.ReservePort() // the emulator's, held until the benchmark ends
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { port.Close() })
	target := port.Addr()
	p := &runtimeProxy{target: target, port: port}
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	forward.ErrorLog = log.New(io.Discard, "", 0) // the bootstrap's long poll, cut when the emulator stops
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		p.mu.Lock()
		switch {
		case p.next.IsZero() && strings.HasSuffix(r.URL.Path, "/invocation/next"):
			p.next = now
		case p.done.IsZero() && (strings.HasSuffix(r.URL.Path, "/response") || strings.HasSuffix(r.URL.Path, "/error")):
			p.done = now
		}
		p.mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	p.addr = strings.TrimPrefix(srv.URL, "http://")
	return p
}

func (p *runtimeProxy) times() (next, done time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next, p.done
}

// noBackendEvent turns a sample event into one the function answers without
// calling AWS.
func noBackendEvent(b *testing.B, fn string, sample []byte) []byte {
	b.Helper()
	var out any
	switch fn {
	case rie.Worker:
		out = events.SQSEvent{Records: []events.SQSMessage{}}
	default:
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(sample, &req); err != nil {
			b.Fatal(err)
		}
		req.Body = `{"number": 1.5}`                                       // submit: 400
		req.PathParameters = map[string]string{"task_id": "not-a-task-id"} // status: 404
		out = req
	}
	ev, err := json.Marshal(out)
	if err != nil {
		b.Fatal(err)
	}
	return ev
}
