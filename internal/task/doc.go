// Package task holds the domain of the system: a task records one request to
// check a number for primality, moves through a small state machine
// (PENDING → SUCCESS or FAILURE; through STARTED when the check can take
// long, for a number beyond 64 bits), and is kept in a Store.
//
// The package knows nothing about Lambda, HTTP, SQS or DynamoDB. Adapters
// implement Store (see internal/memory, internal/dynamo, internal/bolt) and
// run the shared conformance suite in internal/tasktest.
package task
