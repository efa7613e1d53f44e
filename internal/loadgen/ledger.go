package loadgen

import (
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// outcome is the compact final state of a task: which final status, and
// for a SUCCESS the two facts of its result that must never change. The
// zero value means no final state was seen.
type outcome uint8

const (
	outcomeSuccess outcome = 1 << iota // status SUCCESS
	outcomeFailure                     // status FAILURE
	outcomePrime                       // SUCCESS with is_prime true
	outcomeEcho                        // SUCCESS whose result.number is the number submitted
)

// outcomeOf condenses the status of the task submitted for n; it is 0
// unless the status is final.
func outcomeOf(n int64, st statusResponse) outcome {
	switch st.Status {
	case stateFailure:
		return outcomeFailure
	case stateSuccess:
	default:
		return 0
	}
	o := outcomeSuccess
	if res := st.Result; res != nil {
		if res.IsPrime != nil && *res.IsPrime {
			o |= outcomePrime
		}
		if got, err := strconv.ParseInt(res.Number.String(), 10, 64); err == nil && got == n {
			o |= outcomeEcho
		}
	}
	return o
}

// String describes o for messages.
func (o outcome) String() string {
	switch {
	case o == 0:
		return "not final"
	case o&outcomeFailure != 0:
		return stateFailure
	}
	s := stateSuccess + " is_prime=" + strconv.FormatBool(o&outcomePrime != 0)
	if o&outcomeEcho == 0 {
		s += " for another number"
	}
	return s
}

// ledger keeps, for every accepted submit, the task id, the number and the
// first final outcome seen. A nil ledger records nothing.
//
// During the load phase accept and finish may be called concurrently.
// Afterwards sortByID, groups and id are for a single owner.
type ledger struct {
	mu      sync.Mutex
	entries []ledgerEntry
}

type ledgerEntry struct {
	id  string
	n   int64   // the number submitted
	out outcome // the first final state seen, or 0
}

// newLedger returns a ledger sized for jobs accepted submits, so that a run
// that goes as planned never grows it.
func newLedger(jobs int) *ledger {
	return &ledger{entries: make([]ledgerEntry, 0, jobs)}
}

// accept records an accepted submit of n that returned id, and returns the
// slot to pass to finish.
func (l *ledger) accept(id string, n int64) int {
	if l == nil {
		return -1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, ledgerEntry{id: id, n: n})
	return len(l.entries) - 1
}

// finish records the final outcome seen for the task in slot, unless one
// was recorded already.
func (l *ledger) finish(slot int, o outcome) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := &l.entries[slot]; e.out == 0 {
		e.out = o
	}
}

// id returns entry i's id.
func (l *ledger) id(i int) string { return l.entries[i].id }

// sortByID orders the entries so that the submits that received the same
// id are adjacent. Slots returned by accept are meaningless afterwards.
func (l *ledger) sortByID() {
	slices.SortFunc(l.entries, func(a, b ledgerEntry) int { return strings.Compare(a.id, b.id) })
}

// span is the entries [start, end) of a sorted ledger: the submits that
// received one id.
type span struct{ start, end int }

func (s span) len() int { return s.end - s.start }

// groups yields the spans of a ledger sorted by sortByID, in order.
func (l *ledger) groups() iter.Seq[span] {
	return func(yield func(span) bool) {
		for start := 0; start < len(l.entries); {
			end := start + 1
			for end < len(l.entries) && l.entries[end].id == l.entries[start].id {
				end++
			}
			if !yield(span{start, end}) {
				return
			}
			start = end
		}
	}
}
