// Package queue defines the job queue as the local runner sees it: a queue
// with SQS semantics (at-least-once delivery, visibility timeout, receive
// count, dead-letter queue after max receives) whose messages come out as the
// very events.SQSMessage records Lambda hands to the worker.
//
// Adapters: internal/memory (in process), internal/bolt (durable, embedded)
// and internal/sqsqueue (Amazon SQS). All pass internal/queuetest.
package queue

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Queue is a message queue with SQS semantics.
type Queue interface {
	// Send queues a message and returns its id.
	Send(ctx context.Context, body string) (messageID string, err error)
	// SendBatch queues several messages, as SQS's SendMessageBatch (any
	// number; SQS adapters split them into calls of ten), and returns
	// their ids in order. An error means some may not have been queued.
	SendBatch(ctx context.Context, bodies []string) (messageIDs []string, err error)
	// Receive returns up to max visible messages, waiting up to wait for
	// the first one (long polling). Each message received becomes invisible
	// for the queue's visibility timeout and comes back after it unless it
	// is deleted. Records carry the attributes Lambda sets:
	// ApproximateReceiveCount, SentTimestamp, ApproximateFirstReceiveTimestamp.
	// A message received more than the redrive policy's maxReceiveCount
	// times moves to the dead-letter queue instead.
	Receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error)
	// Delete removes received messages by receipt handle. Deleting a
	// message that is already gone is not an error.
	Delete(ctx context.Context, receiptHandles ...string) error
}

// Attribute names that SQS sets on every message, as Lambda passes them.
const (
	AttrReceiveCount      = "ApproximateReceiveCount"
	AttrSentTimestamp     = "SentTimestamp"
	AttrFirstReceiveStamp = "ApproximateFirstReceiveTimestamp"
	AttrSenderID          = "SenderId"
)

// Defaults shared by the local queues and the template.
const (
	DefaultVisibilityTimeout = 60 * time.Second
	DefaultBatchSize         = 10
)

// MaxBatch is SQS's limit on the messages one ReceiveMessage returns (and
// one DeleteMessageBatch deletes), and so on Receive's max.
const MaxBatch = 10
