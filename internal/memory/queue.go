package memory

import "github.com/asyncprime/asyncprime/internal/queue/localq"

// Queue is a queue.Queue in memory with SQS's semantics: at-least-once
// delivery, a visibility timeout, receive counts and a dead-letter queue.
// It is the queue internal/bolt keeps on disk, without a journal.
type Queue = localq.Queue

// QueueOptions configures a Queue; zero values take SQS's defaults. Its
// Journal stays nil.
type QueueOptions = localq.Options

// NewQueue returns an empty queue.
func NewQueue(opts QueueOptions) *Queue { return localq.New(opts) }
