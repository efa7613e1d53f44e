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
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// TestEmulatorOutage takes SQS and DynamoDB away mid-load — first refusing
// connections, then accepting and never answering — and brings them back.
// Submits must answer 202 or a JSON 503, never hang; once the emulator is
// back, every accepted task finishes; and no record is left PENDING or
// STARTED without a message to finish it.
func TestEmulatorOutage(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		mode awstest.ProxyMode
	}{{"refused", awstest.Down}, {"hanging", awstest.Hang}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.VisibilityTimeout = 2 * time.Second
			direct, res := awstest.ProvisionedWith(t, provision.Settings{VisibilityTimeout: cfg.VisibilityTimeout, MaxReceiveCount: cfg.MaxReceiveCount}, awstest.UniqueNames())
			proxy := awstest.NewProxy(t, aws.ToString(direct.BaseEndpoint))
			viaProxy, err := emulator.Config(t.Context(), proxy.Endpoint())
			if err != nil {
				t.Fatal(err)
			}
			b := backend{
				store: dynamo.New(dynamodb.NewFromConfig(viaProxy), res.TableName),
				queue: sqsqueue.New(sqs.NewFromConfig(viaProxy), res.QueueURL, sqsqueue.WithRegion(viaProxy.Region)),
			}
			base := run(t, cfg, b, nil)

			var mu sync.Mutex
			var accepted []string
			statuses := map[int]int{}
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
						time.Sleep(20 * time.Millisecond)
					}
				})
			}
			time.Sleep(time.Second)
			proxy.SetMode(mode.mode)
			time.Sleep(4 * time.Second)
			proxy.SetMode(awstest.Up)
			time.Sleep(time.Second)
			stop()
			load.Wait()

			mu.Lock()
			t.Logf("submit answers: %v; %d accepted", statuses, len(accepted))
			if statuses[http.StatusServiceUnavailable] == 0 {
				t.Errorf("no submit answered 503 during the outage; the test did not bite")
			}
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

// waitAllFinal scans the table (a test may; the system never does) until no
// record is PENDING or STARTED, for up to the visibility timeout and more.
func waitAllFinal(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := db.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		var open []string
		for _, it := range out.Items {
			if v := attrS(it[dynamo.AttrStatus]); v == string(task.StatusPending) || v == string(task.StatusStarted) {
				open = append(open, attrS(it[dynamo.AttrID])+" "+v)
			}
		}
		if len(open) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records are not final: %v", len(open), open[:min(len(open), 5)])
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func attrS(v any) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
