// Package loadgen drives the asyncprime HTTP API with prime-check jobs and
// reports what it saw: how many jobs were accepted and completed, errors by
// kind, throughput, exact latency percentiles, and optionally the peak memory
// of a local server process.
//
// A job is one number: POST {base}/ to submit it, then GET {base}/{task_id}
// every poll interval until the task is SUCCESS or FAILURE, or until the
// per-job timeout. Two load models are supported:
//
//   - closed loop (Config.Rate == 0): Config.Concurrency workers each run one
//     job at a time, back to back;
//   - open loop (Config.Rate > 0): jobs start at a fixed rate, each in its own
//     goroutine, with at most Config.MaxInFlight unfinished at once.
//
// With Config.Verify (the default), the load phase is followed by a
// verification pass for soak runs: every accepted task id is read again,
// and each accepted submit is counted as finished (SUCCESS or FAILURE),
// lost (404, unreadable, or still not final after up to JobTimeout of
// re-polling), as a duplicate id (an id already handed out) or as a changed
// result (a final state other than the one first seen). The run keeps only
// each task's id, number and a one-byte final outcome for this, about 40
// bytes a task. Report.Verify holds the counts, and Report.OK is false
// unless no task was lost or duplicated.
//
// Run returns a Result whose Report can be written as an aligned table
// (Report.WriteTable) or as one JSON line (Report.WriteJSON), and whose raw
// samples can be drawn as an SVG histogram (Result.WriteSVG).
package loadgen
