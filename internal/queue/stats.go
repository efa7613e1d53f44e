package queue

import (
	"fmt"
	"time"
)

// Counts is what a queue reports about its messages, as SQS's
// GetQueueAttributes does: approximate on SQS, exact on the local queues.
type Counts struct {
	// Visible messages wait to be received (ApproximateNumberOfMessages).
	Visible int `json:"visible"`
	// InFlight messages were received and are neither deleted nor visible
	// again yet (ApproximateNumberOfMessagesNotVisible).
	InFlight int `json:"in_flight"`
	// Delayed messages are not visible yet (ApproximateNumberOfMessagesDelayed).
	Delayed int `json:"delayed"`
	// Oldest is when the oldest message still in the queue was sent; zero
	// when the queue is empty or does not say (SQS reports the age of the
	// oldest message only as a CloudWatch metric).
	Oldest time.Time `json:"-"`
}

// Total is every message the queue holds.
func (c Counts) Total() int { return c.Visible + c.InFlight + c.Delayed }

// Peeked is a message looked at without taking it off its queue.
type Peeked struct {
	ID           string    `json:"message_id"`
	Body         string    `json:"body"`
	Sent         time.Time `json:"sent_at"`
	ReceiveCount int       `json:"receive_count"`
}

// Redrive is the outcome of moving a dead-letter queue's messages back to
// its source queue.
type Redrive struct {
	// Moved is how many messages were moved, or, when Async, how many the
	// dead-letter queue held when the move started.
	Moved int `json:"moved"`
	// Async is set when the queue service moves the messages itself
	// (SQS's StartMessageMoveTask); TaskHandle then names the move.
	Async      bool   `json:"async,omitempty"`
	TaskHandle string `json:"task_handle,omitempty"`
}

// String says what the redrive did, as the console and primectl report it.
func (r Redrive) String() string {
	if r.Async {
		return fmt.Sprintf("SQS is moving the %s back to the task queue (move task %s)", DeadLetters(r.Moved), r.TaskHandle)
	}
	return fmt.Sprintf("moved %s back to the task queue", DeadLetters(r.Moved))
}

// DeadLetters counts n dead letters in words: "1 dead letter", "2 dead
// letters".
func DeadLetters(n int) string {
	if n == 1 {
		return "1 dead letter"
	}
	return fmt.Sprintf("%d dead letters", n)
}

// Reopened says that n tasks that had been dead-lettered will run again.
func Reopened(n int) string {
	if n == 1 {
		return "1 task that had failed because it was dead-lettered is PENDING again and will run"
	}
	return fmt.Sprintf("%d tasks that had failed because they were dead-lettered are PENDING again and will run", n)
}
