package task_test

import (
	"testing"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
)

// TestSubmitRoutesBigNumbers: numbers beyond 64 bits go to the big-task
// queue, the rest to the tasks queue.
func TestSubmitRoutesBigNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n       task.Number
		wantBig bool
	}{
		{"11", false},
		{"-170141183460469231731687303715884105727", false}, // never prime, at once
		{"9223372036854775807", false},                      // 2^63-1
		{"18446744073709551615", false},                     // 2^64-1
		{"18446744073709551616", true},                      // 2^64
		{"170141183460469231731687303715884105727", true},
	}
	for _, tt := range tests {
		t.Run(string(tt.n), func(t *testing.T) {
			t.Parallel()
			small, big := &fakeQueue{}, &fakeQueue{}
			s := &task.Submitter{Store: memory.NewStore(), Queue: small, BigQueue: big, Now: clock()}
			if _, err := s.Submit(t.Context(), tt.n); err != nil {
				t.Fatal(err)
			}
			if got := len(big.sent) == 1 && len(small.sent) == 0; got != tt.wantBig {
				t.Errorf("sent %d to the tasks queue, %d to the big-task queue; want big %v", len(small.sent), len(big.sent), tt.wantBig)
			}
			if task.Big(tt.n) != tt.wantBig {
				t.Errorf("Big(%s) = %v; want %v", tt.n, !tt.wantBig, tt.wantBig)
			}
		})
	}
}
