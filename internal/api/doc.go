// Package api holds the HTTP side of the system as Lambda sees it: handlers
// that take an API Gateway HTTP API (payload format 2.0) request event and
// return its response event. The submit and status functions run them under
// lambda.Start; the local mode turns each HTTP request into the same event
// and calls the same handlers.
//
// Every response is JSON. A client's mistake gets a 4xx with an "error"
// that says what is wrong and how to fix it; only the backend being
// unreachable gives a 5xx (503).
package api
