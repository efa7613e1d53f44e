package localq

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestRecordAndReceiptHandle(t *testing.T) {
	t.Parallel()
	sent := time.UnixMilli(1795521600000)
	r := Record(Message{ID: "m1", Body: "b", MD5: "x", Receives: 3, Sent: sent, FirstReceive: sent.Add(time.Second)}, ARN("tasks"))
	if r.Attributes["ApproximateReceiveCount"] != "3" || r.Attributes["SentTimestamp"] != "1795521600000" ||
		r.Attributes["ApproximateFirstReceiveTimestamp"] != "1795521601000" || r.EventSource != "aws:sqs" ||
		r.EventSourceARN != "arn:aws:sqs:local:000000000000:tasks" {
		t.Errorf("Record = %+v; want SQS attributes and source", r)
	}
	id, err := MessageID(r.ReceiptHandle)
	if err != nil || id != "m1" {
		t.Errorf("MessageID(%q) = %q, %v; want m1", r.ReceiptHandle, id, err)
	}
	if _, err := MessageID("no-separator"); err == nil {
		t.Error("MessageID of a malformed handle = nil error; want one")
	}
}

func TestInflightPopsInVisibilityOrder(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	var f Inflight[string]
	f.Push("late", 1, t0.Add(3*time.Second))
	f.Push("early", 2, t0.Add(time.Second))
	f.Push("middle", 1, t0.Add(2*time.Second))
	if got := f.Next(); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("Next = %v; want the earliest", got)
	}
	if _, _, ok := f.PopDue(t0); ok {
		t.Error("PopDue before anything is due = ok; want nothing")
	}
	var order []string
	for {
		v, _, ok := f.PopDue(t0.Add(time.Hour))
		if !ok {
			break
		}
		order = append(order, v)
	}
	if len(order) != 3 || order[0] != "early" || order[1] != "middle" || order[2] != "late" {
		t.Errorf("order = %v; want early, middle, late", order)
	}
}

func TestPollStopsOnContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	never := make(chan struct{})
	_, err := Poll(ctx, 1, time.Hour, nil, func() ([]events.SQSMessage, <-chan struct{}, time.Time, error) {
		return nil, never, time.Time{}, nil
	})
	if err == nil {
		t.Error("Poll with a cancelled context = nil error; want one")
	}
	if _, err := Poll(t.Context(), 11, 0, nil, nil); err == nil {
		t.Error("Poll(max=11) = nil error; want one")
	}
}
