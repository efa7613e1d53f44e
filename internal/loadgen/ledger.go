package loadgen

import (
	"bytes"
	"iter"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"github.com/asyncprime/asyncprime/internal/task"
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
// first final outcome seen: about 40 bytes a task. Ids that are canonical
// UUIDs, as the API's are, are kept as their 16 bytes and others verbatim,
// all in one byte arena, so that 100,000 tasks cost two allocations and
// give the garbage collector no pointers to chase. A nil ledger records
// nothing.
//
// During the load phase accept and finish may be called concurrently.
// Afterwards sortByID, groups and id are for a single owner.
type ledger struct {
	mu      sync.Mutex
	entries []ledgerEntry
	arena   []byte
}

type ledgerEntry struct {
	n      int64   // the number submitted
	off    int     // the id is arena[off : off+size]
	size   uint32  // 16 when packed, else the id's length
	packed bool    // the id is a UUID kept as its 16 bytes
	out    outcome // the first final state seen, or 0
}

// uuidSize and uuidLen are the sizes of a UUID in bytes and as text.
const (
	uuidSize = 16
	uuidLen  = 36
)

// newLedger returns a ledger sized for jobs accepted submits with UUID ids,
// so that a run that goes as planned never grows it.
func newLedger(jobs int) *ledger {
	return &ledger{
		entries: make([]ledgerEntry, 0, jobs),
		arena:   make([]byte, 0, jobs*uuidSize),
	}
}

// accept records an accepted submit of n that returned id, and returns the
// slot to pass to finish.
func (l *ledger) accept(id string, n int64) int {
	if l == nil {
		return -1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := ledgerEntry{n: n, off: len(l.arena)}
	if u, ok := parseUUID(id); ok {
		l.arena = append(l.arena, u[:]...)
		e.packed = true
	} else {
		l.arena = append(l.arena, id...)
	}
	e.size = uint32(len(l.arena) - e.off)
	l.entries = append(l.entries, e)
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

// idBytes returns the stored form of entry i's id.
func (l *ledger) idBytes(i int) []byte {
	e := l.entries[i]
	return l.arena[e.off : e.off+int(e.size)]
}

// id returns entry i's id as the API spelled it.
func (l *ledger) id(i int) string {
	if l.entries[i].packed {
		return formatUUID(l.idBytes(i))
	}
	return string(l.idBytes(i))
}

// sortByID orders the entries so that the submits that received the same
// id are adjacent. Slots returned by accept are meaningless afterwards.
func (l *ledger) sortByID() {
	slices.SortFunc(l.entries, func(a, b ledgerEntry) int {
		if a.packed != b.packed {
			if a.packed {
				return -1
			}
			return 1
		}
		return bytes.Compare(l.arena[a.off:a.off+int(a.size)], l.arena[b.off:b.off+int(b.size)])
	})
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
			for end < len(l.entries) && l.entries[end].packed == l.entries[start].packed &&
				bytes.Equal(l.idBytes(end), l.idBytes(start)) {
				end++
			}
			if !yield(span{start, end}) {
				return
			}
			start = end
		}
	}
}

// footprint is the memory the ledger holds, in bytes.
func (l *ledger) footprint() int {
	return cap(l.entries)*int(unsafe.Sizeof(ledgerEntry{})) + cap(l.arena)
}

// parseUUID decodes a UUID in canonical lowercase text form, the only form
// formatUUID gives back unchanged.
func parseUUID(s string) (u [uuidSize]byte, ok bool) {
	if len(s) != uuidLen {
		return u, false
	}
	j := 0
	for i := 0; i < len(s); {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return u, false
			}
			i++
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		i += 2
		j++
	}
	return u, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// formatUUID writes the 16 bytes of b as a canonical lowercase UUID.
func formatUUID(b []byte) string { return task.FormatID([16]byte(b)) }
