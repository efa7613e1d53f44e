package sqsqueue

import (
	"errors"
	"net/url"
	"path"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/asyncprime/asyncprime/internal/task"
)

// missing returns err as a *task.MissingResourceError naming the queue at
// queueURL if SQS answered that the queue does not exist (it was deleted,
// or an emulator restarted empty), and err as it is otherwise. The SDK
// returns *types.QueueDoesNotExist; the JSON protocol's code is
// QueueDoesNotExist, the query protocol's (which some emulators still
// send) AWS.SimpleQueueService.NonExistentQueue.
func missing(err error, queueURL string) error {
	if err == nil || !queueMissing(err) {
		return err
	}
	return &task.MissingResourceError{Kind: "queue", Name: queueName(queueURL), Err: err}
}

func queueMissing(err error) bool {
	if _, ok := errors.AsType[*types.QueueDoesNotExist](err); ok {
		return true
	}
	if api, ok := errors.AsType[smithy.APIError](err); ok {
		switch api.ErrorCode() {
		case "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue":
			return true
		}
	}
	return false
}

// queueName is the last element of a queue URL's path: the queue's name,
// without the account id the URL holds.
func queueName(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil || u.Path == "" || u.Path == "/" {
		return queueURL
	}
	return path.Base(u.Path)
}
