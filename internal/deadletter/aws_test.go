package deadletter_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/deadletter"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/samtemplate"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// recorder is a reverse proxy in front of the emulator that notes the
// IAM action of each call (ChangeMessageVisibilityBatch is authorised as
// sqs:ChangeMessageVisibility).
type recorder struct {
	mu      sync.Mutex
	actions map[string]bool
}

func (r *recorder) endpoint(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		svc, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
		action := ""
		switch {
		case svc == "AmazonSQS":
			action = "sqs:" + strings.TrimSuffix(op, "Batch")
		case strings.HasPrefix(svc, "DynamoDB_"):
			action = "dynamodb:" + op
		}
		r.mu.Lock()
		r.actions[action] = true
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestFunctionOnSQS runs the dead-letter function's rounds over the wire
// to the emulator: the task of a dead letter ends FAILURE, the dead
// letters (and a poison one) stay in their queue, and the function made
// exactly the calls its role in template.yaml grants.
func TestFunctionOnSQS(t *testing.T) {
	t.Parallel()
	cfg, res := awstest.Provisioned(t)
	names := awstest.UniqueNames()
	_, big := awstest.ProvisionedWith(t, provision.Settings{}, provision.Names{Queue: names.Queue, DeadLetterQueue: names.DeadLetterQueue})
	endpoint := awstest.Endpoint(cfg)
	if endpoint == "" {
		t.Skip("the emulator's endpoint is not known: cannot record the calls")
	}
	ctx := t.Context()
	store := dynamo.New(dynamodb.NewFromConfig(cfg), res.TableName)
	id := task.NewID()
	n, _ := task.ParseNumber("11")
	if err := store.Create(ctx, task.Task{ID: id, Number: n, Status: task.StatusPending, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// A task of a batch, which lives in its batch's item (read with
	// BatchGetItem).
	member := task.NewBatchIDs(2)
	batch := make([]task.Task, len(member))
	now := time.Now()
	for i, mid := range member {
		batch[i] = task.Task{ID: mid, Number: n, Status: task.StatusPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	if err := store.CreateBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	dlq := sqsqueue.New(sqs.NewFromConfig(cfg), res.DeadLetterQueueURL)
	for _, body := range []string{task.EncodeMessage(id), task.EncodeMessage(member[1]), "not a task message"} {
		if _, err := dlq.Send(ctx, body); err != nil {
			t.Fatal(err)
		}
	}

	rec := &recorder{actions: map[string]bool{}}
	at := rec.endpoint(t, endpoint)
	env := config.DeadLetter{TableName: res.TableName, DeadLetterQueueURL: res.DeadLetterQueueURL, BigDeadLetterQueueURL: big.DeadLetterQueueURL}
	obs := &observer{}
	f := deadletter.NewFunction(env,
		sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(at) }),
		dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(at) }),
		cfg.Region, obs, slog.New(slog.DiscardHandler))
	// Its settlers leave a redrive's background move a grace; the second
	// round comes after it.
	clock := now
	for _, s := range f.Settlers {
		if s.Grace != deadletter.SQSRedriveGrace {
			t.Errorf("settler %s: Grace %v; want SQSRedriveGrace", s.Name, s.Grace)
		}
		s.Now = func() time.Time { return clock }
	}
	for range 2 {
		if err := f.Handle(ctx); err != nil {
			t.Fatalf("Handle = %v", err)
		}
		clock = clock.Add(deadletter.SQSRedriveGrace)
	}
	for _, id := range []string{id, member[1]} {
		got, err := store.Get(ctx, id)
		if err != nil || !task.IsDeadLettered(got) {
			t.Fatalf("task %s = %s %q, %v; want FAILURE, dead-lettered", id, got.Status, got.Error, err)
		}
	}
	// Each FAILURE recorded is told once (the dashboard counts it as a
	// failed task), though the round ran twice.
	if got := obs.failures(); !slices.Equal(got, slices.Sorted(slices.Values([]string{id, member[1]}))) {
		t.Errorf("observed FAILUREs of %v; want one for each settled task, %s and %s", got, id, member[1])
	}
	if got, err := store.Get(ctx, member[0]); err != nil || got.Status != task.StatusPending {
		t.Errorf("the other task of the batch = %s, %v; want PENDING still", got.Status, err)
	}
	left, err := dlq.Peek(ctx, 10)
	if err != nil || len(left) != 3 {
		t.Errorf("the dead-letter queue holds %d messages (%v); want all 3 still", len(left), err)
	}
	var made []string
	for a := range rec.actions {
		made = append(made, a)
	}
	slices.Sort(made)
	if want := slices.Sorted(slices.Values(samtemplate.Permissions["DeadLetterFunction"])); !slices.Equal(made, want) {
		t.Errorf("the dead-letter function made the calls %v over the wire; its role in template.yaml grants %v", made, want)
	}
}

// observer records the tasks a metrics.Store saw finish as FAILURE.
type observer struct {
	mu     sync.Mutex
	failed []string
}

func (o *observer) Observe(_ context.Context, e metrics.Event) {
	if e.Kind == metrics.Finished && e.Task.Status == task.StatusFailure {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.failed = append(o.failed, e.Task.ID)
	}
}

func (o *observer) failures() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Sorted(slices.Values(o.failed))
}
