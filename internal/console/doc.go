// Package console is the operator's console of the local mode: a web page
// at /console/ (embedded, no build step), the JSON API it reads
// (/console/api/...), its actions (redrive or purge the dead-letter queue,
// retry a FAILURE task) and GET /health. It works on every backend: the
// counts come from the queues themselves (GetQueueAttributes on SQS, never a
// table scan), the figures "since start" from Counters, which observes the
// task store of this process (see internal/metrics).
//
// The consumer-side interfaces (QueueStats, DeadLetters) are implemented
// by internal/memory, internal/bolt and internal/sqsqueue, and checked by
// internal/queuetest.RunAdmin.
package console
