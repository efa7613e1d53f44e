package loadgen

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

func TestOutcomeOf(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	success := func(number string, prime *bool) statusResponse {
		return statusResponse{Status: stateSuccess, Result: &taskResult{Number: json.Number(number), IsPrime: prime}}
	}
	tests := []struct {
		name string
		st   statusResponse
		want outcome
	}{
		{name: "pending", st: statusResponse{Status: statePending}, want: 0},
		{name: "started", st: statusResponse{Status: stateStarted}, want: 0},
		{name: "unknown", st: statusResponse{Status: "RETRY"}, want: 0},
		{name: "failure", st: statusResponse{Status: stateFailure, Error: "boom"}, want: outcomeFailure},
		{name: "prime", st: success("7", &yes), want: outcomeSuccess | outcomePrime | outcomeEcho},
		{name: "composite", st: success("7", &no), want: outcomeSuccess | outcomeEcho},
		{name: "other number", st: success("11", &yes), want: outcomeSuccess | outcomePrime},
		{name: "no is_prime", st: success("7", nil), want: outcomeSuccess | outcomeEcho},
		{name: "no result", st: statusResponse{Status: stateSuccess}, want: outcomeSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := outcomeOf(7, tt.st); got != tt.want {
				t.Errorf("outcomeOf(7, %+v) = %v; want %v", tt.st, got, tt.want)
			}
		})
	}
}

func TestLedgerIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		id         string
		wantPacked bool
	}{
		{name: "canonical uuid", id: "0f8fad5b-d9cb-469f-a165-70867728950e", wantPacked: true},
		{name: "uppercase uuid", id: "0F8FAD5B-D9CB-469F-A165-70867728950E"},
		{name: "uuid without dashes", id: "0f8fad5bd9cb469fa16570867728950e"},
		{name: "dash misplaced", id: "0f8fad5-bd9cb-469f-a165-70867728950e"},
		{name: "short", id: "42"},
		{name: "long", id: "task-" + string(make([]byte, 300))},
	}
	l := newLedger(len(tests))
	for i, tt := range tests {
		if slot := l.accept(tt.id, int64(i)); slot != i {
			t.Fatalf("accept(%q) = slot %d; want %d", tt.id, slot, i)
		}
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := l.id(i); got != tt.id {
				t.Errorf("id() = %q; want %q", got, tt.id)
			}
			if got := l.entries[i].packed; got != tt.wantPacked {
				t.Errorf("packed = %t; want %t", got, tt.wantPacked)
			}
		})
	}
}

func TestLedgerGroups(t *testing.T) {
	t.Parallel()
	ids := []string{
		"0f8fad5b-d9cb-469f-a165-70867728950e", "b", "a", "0f8fad5b-d9cb-469f-a165-70867728950e",
		"7c9e6679-7425-40de-944b-e07fc1f90ae7", "b", "b",
		// The same 16 bytes as text: must not group with the packed UUID.
		"\x0f\x8f\xad\x5b\xd9\xcb\x46\x9f\xa1\x65\x70\x86\x77\x28\x95\x0e",
	}
	l := newLedger(len(ids))
	for i, id := range ids {
		slot := l.accept(id, int64(i))
		l.finish(slot, outcomeSuccess)
		l.finish(slot, outcomeFailure) // the first outcome seen is kept
	}
	l.sortByID()
	var got []string
	for s := range l.groups() {
		got = append(got, fmt.Sprintf("%q×%d", l.id(s.start), s.len()))
		for i := s.start; i < s.end; i++ {
			if l.id(i) != l.id(s.start) {
				t.Errorf("group of %q holds %q", l.id(s.start), l.id(i))
			}
			if l.entries[i].out != outcomeSuccess {
				t.Errorf("entry %d outcome = %v; want %v", i, l.entries[i].out, outcomeSuccess)
			}
		}
	}
	want := []string{
		`"0f8fad5b-d9cb-469f-a165-70867728950e"×2`, `"7c9e6679-7425-40de-944b-e07fc1f90ae7"×1`,
		`"\x0f\x8f\xad[\xd9\xcbF\x9f\xa1ep\x86w(\x95\x0e"×1`, `"a"×1`, `"b"×3`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("groups = %q; want %q", got, want)
	}
}

// TestLedgerFootprint checks that a 100,000-task soak keeps its ledger to
// a few MB: 24 bytes of entry and 16 of UUID a task.
func TestLedgerFootprint(t *testing.T) {
	t.Parallel()
	const tasks = 100_000
	l := newLedger(tasks)
	id := []byte("0f8fad5b-d9cb-469f-a165-70867728950e")
	for i := range tasks {
		for j, v := len(id)-1, i; j >= len(id)-5; j, v = j-1, v>>4 {
			id[j] = "0123456789abcdef"[v&0xf]
		}
		l.accept(string(id), int64(i))
	}
	l.sortByID()
	groups := 0
	for range l.groups() {
		groups++
	}
	if groups != tasks {
		t.Errorf("%d distinct ids; want %d", groups, tasks)
	}
	if got, limit := l.footprint(), 40*tasks; got > limit {
		t.Errorf("ledger of %d tasks holds %d bytes; want at most %d", tasks, got, limit)
	}
	if cap(l.entries) != tasks {
		t.Errorf("entries grew to capacity %d; want the %d it was sized for", cap(l.entries), tasks)
	}
}

func BenchmarkLedgerAccept(b *testing.B) {
	id := "0f8fad5b-d9cb-469f-a165-70867728950e"
	l := newLedger(b.N)
	b.ReportAllocs()
	for i := range b.N {
		l.finish(l.accept(id, int64(i)), outcomeSuccess)
	}
}
