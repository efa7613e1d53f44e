// Package local runs the Lambda handlers on one machine, the way AWS would
// call them: an HTTP server turns each request into the API Gateway HTTP API
// (payload 2.0) event that the submit and status handlers take, and a poller
// plays Lambda's SQS event source mapping, feeding events.SQSEvent batches to
// the worker handler and deleting only the records it did not report as
// failures. As on AWS, numbers beyond 64 bits have a queue and a poller of
// their own; and, as the scheduled dead-letter function does on AWS, a
// settler on each dead-letter queue (internal/deadletter) peeks at the dead
// letters every few seconds and records FAILURE for their tasks, leaving
// the messages for the operator's console.
package local
