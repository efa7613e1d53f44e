// Package metrics observes the task lifecycle where it is written: a
// task.Store decorator tells an Observer of every transition that landed
// (submitted, started, finished, abandoned, retried), with the task as
// written. Two observers use it: EMF, which the Lambda functions use to
// publish CloudWatch metrics in Embedded Metric Format through their JSON
// logs (no agent, no PutMetricData permission), and the local mode's
// console counters (internal/console).
//
// Watching the store rather than the handlers keeps internal/task and
// internal/worker unchanged, and counts exactly the writes that happened:
// a duplicate delivery whose Finish is refused is not counted twice.
package metrics
