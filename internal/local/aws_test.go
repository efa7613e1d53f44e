package local_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awscfg"
	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestEndToEndOnAWSAPIs drives HTTP → submit → SQS → worker → DynamoDB →
// status, with the local poller in Lambda's place, over the wire to the
// emulator.
func TestEndToEndOnAWSAPIs(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.VisibilityTimeout = 2 * time.Second
	awsCfg, res := awstest.ProvisionedWith(t, provision.Settings{VisibilityTimeout: cfg.VisibilityTimeout, MaxReceiveCount: cfg.MaxReceiveCount}, awstest.UniqueNames())
	store := dynamo.New(dynamodb.NewFromConfig(awsCfg), res.TableName)
	q := sqsqueue.New(sqs.NewFromConfig(awsCfg), res.QueueURL, sqsqueue.WithRegion(awsCfg.Region))
	sys := local.NewSystem(cfg, &local.Backend{Store: store, Queue: q}, quiet())
	sys.Poller.WaitTime = time.Second
	srv := httptest.NewServer(sys.API)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sys.Poller.Run(ctx); close(done) }()
	t.Cleanup(func() { srv.Close(); cancel(); <-done })

	want := map[string]bool{"11": true, "4": false, "2305843009213693951": true, "-7": false, "340282366920938463463374607431768211507": true}
	ids := map[string]string{}
	for n := range want {
		ids[n] = submit(t, srv.URL, fmt.Sprintf(`{"number": %s}`, n))
	}
	for n, id := range ids {
		s := waitFinal(t, srv.URL, id)
		if s.Status != task.StatusSuccess || s.Result == nil || string(s.Result.Number) != n || s.Result.IsPrime != want[n] {
			t.Errorf("%s: got %s %+v; want SUCCESS is_prime=%v", n, s.Status, s.Result, want[n])
		}
	}
}

func TestAWSBackendNeedsBothNames(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Backend, cfg.QueueURL = "aws", "http://127.0.0.1:1/000000000000/q"
	if _, err := local.OpenBackend(t.Context(), cfg, quiet()); err == nil {
		t.Fatal("OpenBackend with QUEUE_URL but no TABLE_NAME = nil error; want one")
	}
}

// TestLongPollFitsTheAttemptTimeout: the poller's ReceiveMessage long poll
// must end before the SDK gives up on the request.
func TestLongPollFitsTheAttemptTimeout(t *testing.T) {
	t.Parallel()
	sys := local.NewSystem(testConfig(), &local.Backend{Store: memory.NewStore(), Queue: memory.NewQueue(memory.QueueOptions{})}, quiet())
	if wait := sys.Poller.WaitTime; wait > sqsqueue.MaxWait || wait+5*time.Second > awscfg.AttemptTimeout {
		t.Errorf("long poll %v, SQS maximum %v, SDK attempt timeout %v; want the poll within both, with a margin", wait, sqsqueue.MaxWait, awscfg.AttemptTimeout)
	}
}
