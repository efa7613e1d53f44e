package api

// Route keys of the HTTP API, as API Gateway puts them in RouteKey. The
// template declares these routes; the local mode matches requests to them
// the way API Gateway does: an exact method beats ANY, and anything else
// falls to $default.
const (
	RouteSubmit     = "POST /"
	RouteStatus     = "GET /{task_id}"
	RouteCancel     = "DELETE /{task_id}" // to status, which revokes the task
	RouteAnyRoot    = "ANY /"             // to submit, which answers 405
	RouteAnyTask    = "ANY /{task_id}"    // to status, which answers 405
	RouteDefault    = "$default"          // to status, which answers 404
	PathParamTaskID = "task_id"
)
