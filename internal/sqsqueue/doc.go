// Package sqsqueue implements queue.Queue on Amazon SQS (a standard queue
// whose redrive policy names a dead-letter queue), for the local runner
// against LocalStack, moto or real AWS.
//
// The Lambda functions do not need it to receive: the event source mapping
// polls SQS and hands the worker events.SQSMessage records. Receive builds
// the very same records from ReceiveMessage, so that the local runner drives
// the worker's handler exactly as Lambda does. Submit uses Send only.
//
// Records carry no EventSourceARN: the worker does not read it, and deriving
// it from the queue URL took more code than it was worth.
package sqsqueue
