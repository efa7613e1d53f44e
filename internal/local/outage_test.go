package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/emulator"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

// TestEmulatorOutage takes SQS and DynamoDB away mid-load — first refusing
// connections, then accepting and never answering — and brings them back.
// Submits must answer 202 or a JSON 503, never hang; once the emulator is
// back, every accepted task finishes; and no record is left PENDING or
// STARTED without a message to finish it.
//
// The phases move on events, not time: the outage starts once tasks are
// being accepted, and ends once several submits have failed because of it
// and begun to roll their task back. Their roll-backs are given longer than
// any outage here (with the default task.DefaultAbandonTimeout, one whose
// outage outlasts it leaves its PENDING record behind, by design; on a
// loaded machine the fourth roll-back could begin that late).
func TestEmulatorOutage(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		mode awstest.ProxyMode
	}{{"refused", awstest.Down}, {"hanging", awstest.Hang}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			// Redeliveries the outage and a loaded emulator cause (lost
			// receives, slow batches) must not dead-letter a task here;
			// TestPoisonMessages tests the redrive policy.
			cfg.VisibilityTimeout, cfg.MaxReceiveCount = 2*time.Second, 10
			direct, res := awstest.ProvisionedWith(t, provision.Settings{VisibilityTimeout: cfg.VisibilityTimeout, MaxReceiveCount: cfg.MaxReceiveCount}, awstest.UniqueNames())
			proxy := awstest.NewProxy(t, aws.ToString(direct.BaseEndpoint))
			viaProxy, err := emulator.Config(t.Context(), proxy.Endpoint())
			if err != nil {
				t.Fatal(err)
			}
			store := &abandonCounter{Store: dynamo.New(dynamodb.NewFromConfig(viaProxy), res.TableName), ids: map[string]bool{}}
			b := backend{
				store: store,
				queue: sqsqueue.New(sqs.NewFromConfig(viaProxy), res.QueueURL, sqsqueue.WithRegion(viaProxy.Region)),
			}
			// A roll-back that cannot reach the store for its whole
			// AbandonTimeout leaves its PENDING record behind, by design;
			// here it outlasts any outage the test makes, however slowly
			// the phases move on a loaded machine, so that every record
			// must end final.
			base, _ := run(t, cfg, b, func(sys *local.System) {
				submitter := &task.Submitter{Store: sys.Store, Queue: b.queue, AbandonTimeout: 5 * time.Minute, Logger: quiet()}
				sys.API.Submit = (&api.Submit{Tasks: submitter, Logger: quiet()}).Handle
			})

			var mu sync.Mutex
			var accepted []string
			statuses := map[int]int{}
			count := func(status int) int {
				mu.Lock()
				defer mu.Unlock()
				return statuses[status]
			}
			client := &http.Client{Timeout: 30 * time.Second} // a request this slow counts as hung
			ctx, stop := context.WithCancel(t.Context())
			var load sync.WaitGroup
			for w := range 4 {
				load.Go(func() {
					for i := 0; ctx.Err() == nil; i++ {
						resp, err := client.Post(base+"/", "application/json", strings.NewReader(fmt.Sprintf(`{"number": %d}`, 1000+w*100000+i)))
						if err != nil {
							t.Errorf("submit did not answer: %v", err)
							return
						}
						var body struct {
							api.SubmitResponse
							Error string `json:"error"`
						}
						json.NewDecoder(resp.Body).Decode(&body)
						resp.Body.Close()
						mu.Lock()
						statuses[resp.StatusCode]++
						switch {
						case resp.StatusCode == http.StatusAccepted:
							accepted = append(accepted, body.TaskID)
						case resp.StatusCode == http.StatusServiceUnavailable && body.Error != "":
						default:
							t.Errorf("submit = %d %+v; want 202, or 503 with a JSON error", resp.StatusCode, body)
						}
						mu.Unlock()
					}
				})
			}
			testkit.Eventually(t, 2*time.Minute, func() bool { return count(http.StatusAccepted) >= 4 }, "4 tasks accepted before the outage")
			proxy.SetMode(mode.mode)
			testkit.Eventually(t, 2*time.Minute, func() bool { return store.abandoned() >= 4 }, "4 submits failed by the outage")
			proxy.SetMode(awstest.Up)
			before := count(http.StatusAccepted)
			testkit.Eventually(t, 2*time.Minute, func() bool {
				return count(http.StatusServiceUnavailable) >= 4 && count(http.StatusAccepted) >= before+4
			}, "the failed submits answered 503, and 4 more tasks accepted after the outage")
			stop()
			load.Wait()

			mu.Lock()
			t.Logf("submit answers: %v; %d accepted", statuses, len(accepted))
			ids := append([]string(nil), accepted...)
			mu.Unlock()
			for _, id := range ids {
				if s := waitFinal(t, base, id); s.Status != task.StatusSuccess {
					t.Errorf("task %s = %s %q; want SUCCESS", id, s.Status, s.Error)
				}
			}
			// Every record in the table is final: none was left PENDING
			// without its message, nor STARTED without a worker.
			waitAllFinal(t, dynamodb.NewFromConfig(direct), res.TableName)
		})
	}
}

// abandonCounter counts the tasks whose submit failed and began to roll
// them back.
type abandonCounter struct {
	task.Store
	mu  sync.Mutex
	ids map[string]bool
}

func (a *abandonCounter) Abandon(ctx context.Context, t task.Task) error {
	a.mu.Lock()
	a.ids[t.ID] = true
	a.mu.Unlock()
	return a.Store.Abandon(ctx, t)
}

func (a *abandonCounter) abandoned() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

// waitAllFinal scans the table (a test may; the system never does) until no
// record is PENDING or STARTED: redeliveries after the visibility timeout
// finish what the outage interrupted.
func waitAllFinal(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	var open []string
	testkit.Eventually(t, 2*time.Minute, func() bool {
		out, err := db.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		open = open[:0]
		for _, it := range out.Items {
			if v := attrS(it[dynamo.AttrStatus]); v == string(task.StatusPending) || v == string(task.StatusStarted) {
				open = append(open, attrS(it[dynamo.AttrID])+" "+v)
			}
		}
		return len(open) == 0
	}, "every record final; still open: %v", lazy(func() any { return open[:min(len(open), 5)] }))
}

func attrS(v any) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// lazy formats as what its function returns when formatted, for failure
// messages about state that changes after the message is built.
type lazy func() any

func (l lazy) String() string { return fmt.Sprint(l()) }
