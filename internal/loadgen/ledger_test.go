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

func TestLedgerGroups(t *testing.T) {
	t.Parallel()
	ids := []string{
		"0f8fad5b-d9cb-469f-a165-70867728950e", "b", "a", "0f8fad5b-d9cb-469f-a165-70867728950e",
		"7c9e6679-7425-40de-944b-e07fc1f90ae7", "b", "b",
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
		`"a"×1`, `"b"×3`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("groups = %q; want %q", got, want)
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
