package loadgen

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Settings of the verification pass.
const (
	// verifyAttempts is how many times a re-read that fails with a 5xx, a
	// 408 or 429, or a transport error is tried before its task counts as
	// lost.
	verifyAttempts = 4
	// verifyBackoff is the pause before the first retry; it doubles after
	// each one.
	verifyBackoff = 50 * time.Millisecond
	// verifyOpenLoopWorkers is the number of concurrent re-reads after an
	// open-loop run, which has no Concurrency.
	verifyOpenLoopWorkers = 16
	// maxDuplicateNumbers is how many numbers a duplicate_id example lists.
	maxDuplicateNumbers = 3
)

// Keys of VerifyReport.Examples.
const (
	VerifyLost        = "lost"
	VerifyDuplicateID = "duplicate_id"
	VerifyChanged     = "changed_result"
	VerifyMismatched  = "mismatched"
)

// VerifyReport is the outcome of the verification pass: after the load
// phase every accepted task is read again, and must be final, with the
// result first seen, under an id that no other submit received.
type VerifyReport struct {
	// Accepted is the number of accepted submits. Each one ends up
	// Finished, Lost, or Unverified if the run was canceled.
	Accepted int `json:"accepted"`
	// Finished tasks are SUCCESS or FAILURE when read again.
	Finished int `json:"finished"`
	// Lost tasks were accepted but are now unknown to the API (a 404 or
	// another 4xx), unreadable (5xx or transport errors on every attempt,
	// or a body that is not a status), in an unknown state, or still not
	// final after JobTimeout of re-polling.
	Lost int `json:"lost"`
	// Duplicates is DuplicateIDs + ChangedResults: promises the API broke.
	// DuplicateIDs counts the accepted submits that received a task id an
	// earlier one had already received (so the distinct ids number
	// Accepted - DuplicateIDs). ChangedResults counts tasks whose final
	// state now differs from the first one seen during the run: another
	// status, another is_prime, or another number.
	Duplicates     int `json:"duplicates"`
	DuplicateIDs   int `json:"duplicate_ids"`
	ChangedResults int `json:"changed_results"`
	// Mismatched counts, with Config.Check, the finished SUCCESS results
	// that fail the check when read again.
	Mismatched int `json:"mismatched"`
	// Unverified tasks were not settled because the run was canceled.
	Unverified int `json:"unverified,omitempty"`
	// Stragglers were not final at their first re-read and were polled
	// again; those that then finished count as Finished.
	Stragglers int `json:"stragglers"`
	// Requests is the number of status requests sent, retries included.
	Requests int     `json:"requests"`
	Seconds  float64 `json:"verify_s"`
	// Examples keeps the first message for each problem: VerifyLost,
	// VerifyDuplicateID, VerifyChanged and VerifyMismatched.
	Examples map[string]string `json:"examples,omitempty"`
}

// OK reports whether every accepted task was verified and found finished,
// unique and unchanged, with a correct result.
func (v *VerifyReport) OK() bool {
	return v.Finished == v.Accepted && v.Lost == 0 && v.Duplicates == 0 && v.Mismatched == 0 && v.Unverified == 0
}

// problem describes what is wrong, or returns "" when OK.
func (v *VerifyReport) problem() string {
	var parts []string
	if v.Lost > 0 {
		parts = append(parts, fmt.Sprintf("%d tasks lost", v.Lost))
	}
	if v.Duplicates > 0 {
		parts = append(parts, fmt.Sprintf("%d duplicates (%d duplicate ids, %d changed results)",
			v.Duplicates, v.DuplicateIDs, v.ChangedResults))
	}
	if v.Mismatched > 0 {
		parts = append(parts, fmt.Sprintf("%d wrong results on re-read", v.Mismatched))
	}
	if v.Unverified > 0 {
		parts = append(parts, fmt.Sprintf("%d tasks not verified", v.Unverified))
	}
	return strings.Join(parts, ", ")
}

// verifier runs the verification pass over a ledger that is no longer
// written to.
type verifier struct {
	cfg      Config
	api      *apiClient
	l        *ledger
	workers  int
	requests atomic.Int64

	mu         sync.Mutex
	rep        VerifyReport
	stragglers []straggler
}

// straggler is a task that was not final when last read.
type straggler struct {
	span
	state string
}

// verify re-reads every task the run accepted, reusing the run's client,
// Concurrency requests at a time (verifyOpenLoopWorkers after an open
// loop). Tasks that are not final yet are polled again every PollInterval
// for up to JobTimeout after the first round. When ctx is canceled it
// stops and counts what it did not settle as unverified.
func (r *runner) verify(ctx context.Context) *VerifyReport {
	start := time.Now()
	v := &verifier{cfg: r.cfg, api: r.api, l: r.ledger, workers: r.cfg.Concurrency}
	if r.cfg.OpenLoop() {
		v.workers = verifyOpenLoopWorkers
	}
	v.rep.Accepted = len(v.l.entries)
	v.workers = max(1, min(v.workers, v.rep.Accepted))
	v.rep.Examples = map[string]string{}

	v.l.sortByID()
	for s := range v.l.groups() {
		if s.len() > 1 {
			v.duplicateID(s)
		}
	}

	stopProgress := r.startProgress(start, v.progress)
	forEach(ctx, v.workers, v.l.groups(), func(ctx context.Context, s span) { v.check(ctx, s, true) })
	deadline := time.Now().Add(r.cfg.JobTimeout)
	for len(v.stragglers) > 0 && sleep(ctx, r.cfg.PollInterval) {
		v.mu.Lock()
		round := v.stragglers
		v.stragglers = nil
		v.mu.Unlock()
		forEach(ctx, v.workers, slices.Values(round), func(ctx context.Context, s straggler) { v.check(ctx, s.span, false) })
		if !time.Now().Before(deadline) {
			break
		}
	}
	if ctx.Err() == nil {
		for _, s := range v.stragglers {
			v.lose(s.span, fmt.Sprintf("task %s (number %d): still %s after %v of re-polling",
				v.l.id(s.start), v.l.entries[s.start].n, s.state, r.cfg.JobTimeout))
		}
	}
	stopProgress()

	rep := v.rep
	rep.Duplicates = rep.DuplicateIDs + rep.ChangedResults
	rep.Unverified = rep.Accepted - rep.Finished - rep.Lost
	rep.Requests = int(v.requests.Load())
	rep.Seconds = round(time.Since(start).Seconds(), 3)
	return &rep
}

// forEach calls f on every item, workers at a time, and stops handing out
// items once ctx is done.
func forEach[T any](ctx context.Context, workers int, items iter.Seq[T], f func(context.Context, T)) {
	ch := make(chan T)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for it := range ch {
				f(ctx, it)
			}
		})
	}
	for it := range items {
		if ctx.Err() != nil {
			break
		}
		select {
		case ch <- it:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
}

// check reads the id of s and settles its submits as finished or lost, or
// keeps them as stragglers to read again. first says whether this is the
// first read. If ctx is done it settles nothing.
func (v *verifier) check(ctx context.Context, s span, first bool) {
	id := v.l.id(s.start)
	st, err := v.read(ctx, id)
	if ctx.Err() != nil {
		return
	}
	switch {
	case err != nil:
		v.lose(s, fmt.Sprintf("task %s (number %d): %v", id, v.l.entries[s.start].n, err))
	case st.Status == stateSuccess || st.Status == stateFailure:
		v.finish(s, id, st)
	case st.Status == statePending || st.Status == stateStarted:
		v.mu.Lock()
		defer v.mu.Unlock()
		if first {
			v.rep.Stragglers += s.len()
		}
		v.stragglers = append(v.stragglers, straggler{s, st.Status})
	default:
		v.lose(s, fmt.Sprintf("task %s (number %d): state %q", id, v.l.entries[s.start].n, st.Status))
	}
}

// read fetches the status of id, retrying 5xx, 408, 429 and transport
// errors with a doubling pause. Each attempt may take up to JobTimeout.
func (v *verifier) read(ctx context.Context, id string) (statusResponse, error) {
	pause := verifyBackoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, v.cfg.JobTimeout)
		st, _, err := v.api.status(actx, id)
		cancel()
		v.requests.Add(1)
		if err == nil || !retryable(err) {
			return st, err
		}
		if attempt == verifyAttempts {
			return st, fmt.Errorf("%w (%d attempts)", err, attempt)
		}
		if !sleep(ctx, pause) {
			return st, ctx.Err()
		}
		pause *= 2
	}
}

// finish settles the submits of s, whose task is final as st, comparing
// each with the outcome first seen during the run and, with Check,
// checking the result again.
func (v *verifier) finish(s span, id string, st statusResponse) {
	var changed, mismatched int
	var changedMsg, mismatchedMsg string
	for i := s.start; i < s.end; i++ {
		e := v.l.entries[i]
		if now := outcomeOf(e.n, st); e.out != 0 && e.out != now {
			changed++
			if changedMsg == "" {
				changedMsg = fmt.Sprintf("task %s (number %d): %v during the run, %v now", id, e.n, e.out, now)
			}
		}
		if v.cfg.Check && st.Status == stateSuccess {
			if err := check(e.n, id, st); err != nil {
				mismatched++
				if mismatchedMsg == "" {
					mismatchedMsg = fmt.Sprintf("task %s: %v", id, err)
				}
			}
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rep.Finished += s.len()
	v.rep.ChangedResults += changed
	v.rep.Mismatched += mismatched
	v.example(VerifyChanged, changedMsg)
	v.example(VerifyMismatched, mismatchedMsg)
}

// lose settles the submits of s as lost.
func (v *verifier) lose(s span, msg string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rep.Lost += s.len()
	v.example(VerifyLost, msg)
}

// duplicateID counts the submits of s after the first as duplicate ids.
func (v *verifier) duplicateID(s span) {
	nums := make([]string, 0, maxDuplicateNumbers)
	for i := s.start; i < min(s.end, s.start+maxDuplicateNumbers); i++ {
		nums = append(nums, strconv.FormatInt(v.l.entries[i].n, 10))
	}
	if s.len() > maxDuplicateNumbers {
		nums = append(nums, "…")
	}
	v.rep.DuplicateIDs += s.len() - 1
	v.example(VerifyDuplicateID, fmt.Sprintf("task %s returned by %d accepted submits (numbers %s)",
		v.l.id(s.start), s.len(), strings.Join(nums, ", ")))
}

// example keeps msg as the example of kind unless there is one. The caller
// holds v.mu, or is the only goroutine.
func (v *verifier) example(kind, msg string) {
	if _, ok := v.rep.Examples[kind]; !ok && msg != "" {
		v.rep.Examples[kind] = clip(msg)
	}
}

// progress is a one-line snapshot for progress output.
func (v *verifier) progress(elapsed time.Duration) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return fmt.Sprintf("loadgen: verify %6.1fs checked=%d/%d finished=%d lost=%d stragglers=%d",
		elapsed.Seconds(), v.rep.Finished+v.rep.Lost, v.rep.Accepted, v.rep.Finished, v.rep.Lost, v.rep.Stragglers)
}

// retryable reports whether a failed status request is worth repeating: a
// 5xx, a 408 or 429, or a transport error, but not another 4xx or a 2xx
// whose body makes no sense.
func retryable(err error) bool {
	var se *statusError
	var be *badResponseError
	switch {
	case errors.As(err, &se):
		return se.code >= 500 || se.code == http.StatusTooManyRequests || se.code == http.StatusRequestTimeout
	case errors.As(err, &be):
		return false
	}
	return true
}
