package task_test

import (
	"os"
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/task"
)

// BenchmarkCheckPrime1000Digits is the slowest check the API accepts: a
// prime of task.MaxDigits digits (the first one above 10^999). Its figure
// sets the big-task worker's memory, timeout and batch size in the template;
// see docs/benchmarks.md.
func BenchmarkCheckPrime1000Digits(b *testing.B) {
	raw, err := os.ReadFile("testdata/prime1000.txt")
	if err != nil {
		b.Fatal(err)
	}
	n, err := task.ParseNumber(strings.TrimSpace(string(raw)))
	if err != nil || len(n) != task.MaxDigits {
		b.Fatalf("testdata/prime1000.txt: %v (%d digits); want %d digits", err, len(n), task.MaxDigits)
	}
	for b.Loop() {
		if ok, err := task.CheckPrime(b.Context(), n); !ok || err != nil {
			b.Fatalf("CheckPrime = %v, %v; want true", ok, err)
		}
	}
}
