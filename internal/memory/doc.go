// Package memory implements task.Store and queue.Queue in process memory,
// for tests and for the local mode when durability is not wanted. Both pass
// the same conformance suites as the AWS adapters.
package memory
