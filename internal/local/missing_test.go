package local_test

import (
	"encoding/json"
	"net/http"
	"path"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/apitest"
	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// TestMissingTableAndQueue deletes the queue, then the table, of a running
// system on the emulator (as when a stack's resources are deleted, or the
// user's own emulator restarts empty): every submit, read and cancel that
// needs the missing resource answers 500 naming it, without Retry-After,
// never the 503 of an outage that a client would retry for ever.
func TestMissingTableAndQueue(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	awsCfg, res := awstest.ProvisionedWith(t, provision.Settings{VisibilityTimeout: cfg.VisibilityTimeout, MaxReceiveCount: cfg.MaxReceiveCount}, awstest.UniqueNames())
	db, sqsClient := dynamodb.NewFromConfig(awsCfg), sqs.NewFromConfig(awsCfg)
	base, _ := run(t, cfg, backend{
		store: dynamo.New(db, res.TableName),
		queue: sqsqueue.New(sqsClient, res.QueueURL, sqsqueue.WithRegion(awsCfg.Region)),
	}, nil)
	done := submit(t, base, `{"number": 11}`)
	if s := waitFinal(t, base, done); s.Status != task.StatusSuccess {
		t.Fatalf("task %s is %s; want SUCCESS", done, s.Status)
	}

	// fault asks and checks for a 500 whose error names what is missing.
	fault := func(method, path, body, missing string) {
		t.Helper()
		resp, b := apitest.Do(t, method, base+path, body, nil)
		var e api.Error
		if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("%s %s = %d %s; want 500 with a JSON error", method, path, resp.StatusCode, b)
		}
		if !strings.Contains(e.Error, "the "+missing+" that the service needs does not exist") || !strings.Contains(e.Error, "deployment") {
			t.Errorf("%s %s: error %q; want it to name the %s as missing, a deployment fault", method, path, e.Error, missing)
		}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			t.Errorf("%s %s: Retry-After %q; want none (retrying does not help)", method, path, ra)
		}
	}

	if _, err := sqsClient.DeleteQueue(t.Context(), &sqs.DeleteQueueInput{QueueUrl: aws.String(res.QueueURL)}); err != nil {
		t.Fatal(err)
	}
	fault(http.MethodPost, "/", `{"number": 13}`, "queue "+path.Base(res.QueueURL))
	fault(http.MethodPost, "/", `{"numbers": [17, 19]}`, "queue "+path.Base(res.QueueURL))
	// The table is still there: the task reads as before.
	if s := waitFinal(t, base, done); s.Status != task.StatusSuccess {
		t.Errorf("with the queue gone, task %s is %s; want SUCCESS", done, s.Status)
	}

	if _, err := db.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String(res.TableName)}); err != nil {
		t.Fatal(err)
	}
	fault(http.MethodPost, "/", `{"number": 13}`, "table "+res.TableName)
	fault(http.MethodGet, "/"+done, "", "table "+res.TableName)
	fault(http.MethodDelete, "/"+done, "", "table "+res.TableName)
	// A batch member's read is a BatchGetItem.
	fault(http.MethodGet, "/"+task.NewBatchIDs(2)[1], "", "table "+res.TableName)
}
