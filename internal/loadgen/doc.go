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
// Run returns a Result whose Report can be written as an aligned table
// (Report.WriteTable) or as one JSON line (Report.WriteJSON), and whose raw
// samples can be drawn as an SVG histogram (Result.WriteSVG).
package loadgen
