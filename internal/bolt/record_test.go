package bolt

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

func recordTasks() []task.Task {
	at := time.Date(2026, 12, 2, 3, 4, 5, 123456789, time.UTC)
	return []task.Task{
		{ID: "a", Status: task.StatusPending, Number: "11", CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)},
		{ID: "b", Status: task.StatusStarted, Number: "-7", Attempts: 3, CreatedAt: at, StartedAt: at.Add(time.Second)},
		{ID: "c", Status: task.StatusSuccess, Number: "18446744073709551557", IsPrime: true, Attempts: 1,
			CreatedAt: at, StartedAt: at, FinishedAt: at.Add(time.Millisecond), ExpiresAt: at.Add(time.Hour)},
		{ID: "d", Status: task.StatusFailure, Number: "4", Error: "check failed on each of 5 attempts; last error: é ✓",
			CreatedAt: at, FinishedAt: at},
		{ID: "e", Status: task.StatusRevoked, Number: "0", CreatedAt: at, FinishedAt: at},
	}
}

// TestRecordRoundTrip: every status and field survives the binary form.
func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	for _, want := range recordTasks() {
		b, err := encodeTask(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeTask(want.ID, b)
		if err != nil {
			t.Fatalf("decodeTask(encodeTask(%+v)) = %v", want, err)
		}
		if got != want {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
	if _, err := encodeTask(task.Task{ID: "x", Status: "DONE", Number: "1"}); err == nil {
		t.Error("encodeTask of an unknown status = nil error")
	}
}

// TestRecordJSONForms: the records earlier versions wrote, with a checksum
// and without, still read.
func TestRecordJSONForms(t *testing.T) {
	t.Parallel()
	for _, want := range recordTasks() {
		j, err := json.Marshal(taskRecord{Status: want.Status, Number: string(want.Number), IsPrime: want.IsPrime,
			Error: want.Error, Attempts: want.Attempts, CreatedAt: want.CreatedAt, StartedAt: want.StartedAt,
			FinishedAt: want.FinishedAt, ExpiresAt: want.ExpiresAt})
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string][]byte{
			"json":        j,
			"checksummed": fmt.Appendf(nil, "c%08x%s", crc32.Checksum(j, castagnoli), j),
		} {
			got, err := decodeTask(want.ID, b)
			if err != nil || got != want {
				t.Errorf("%s: decodeTask = %+v, %v; want %+v", name, got, err, want)
			}
		}
	}
}

// TestRecordDamage: a truncated, extended or altered record is ErrDamaged,
// whichever byte changed.
func TestRecordDamage(t *testing.T) {
	t.Parallel()
	for _, tk := range recordTasks() {
		b, err := encodeTask(tk)
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			for _, bit := range []byte{1, 0x80} {
				d := append([]byte(nil), b...)
				d[i] ^= bit
				if got, err := decodeTask(tk.ID, d); !errors.Is(err, task.ErrDamaged) {
					t.Fatalf("byte %d bit %x flipped: decodeTask = %+v, %v; want ErrDamaged", i, bit, got, err)
				}
			}
		}
		for _, d := range [][]byte{b[:len(b)-1], append(append([]byte(nil), b...), 0), nil, {'b'}} {
			if got, err := decodeTask(tk.ID, d); !errors.Is(err, task.ErrDamaged) {
				t.Fatalf("record %x: decodeTask = %+v, %v; want ErrDamaged", d, got, err)
			}
		}
	}
}

// FuzzDecodeTask: no input panics, and whatever decodes is a valid task
// that survives another round trip.
func FuzzDecodeTask(f *testing.F) {
	for _, tk := range recordTasks() {
		b, _ := encodeTask(tk)
		f.Add(b)
	}
	f.Add([]byte(`{"status":"PENDING","number":"11"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, err := decodeTask("id", b)
		if err != nil {
			if !errors.Is(err, task.ErrDamaged) {
				t.Fatalf("decodeTask = %v; want ErrDamaged", err)
			}
			return
		}
		if !tk.Status.Valid() {
			t.Fatalf("decoded an invalid status %q", tk.Status)
		}
		again, err := encodeTask(tk)
		if err != nil {
			t.Fatalf("encodeTask(%+v) = %v", tk, err)
		}
		if back, err := decodeTask("id", again); err != nil || back != tk {
			t.Fatalf("round trip of %+v = %+v, %v", tk, back, err)
		}
	})
}

// BenchmarkDecodeTask: a finished task's record, as every poll reads one.
func BenchmarkDecodeTask(b *testing.B) {
	tk := recordTasks()[2]
	bin, _ := encodeTask(tk)
	j, _ := json.Marshal(taskRecord{Status: tk.Status, Number: string(tk.Number), IsPrime: tk.IsPrime,
		Attempts: tk.Attempts, CreatedAt: tk.CreatedAt, StartedAt: tk.StartedAt, FinishedAt: tk.FinishedAt, ExpiresAt: tk.ExpiresAt})
	for _, bc := range []struct {
		name string
		rec  []byte
	}{{"binary", bin}, {"json", fmt.Appendf(nil, "c%08x%s", crc32.Checksum(j, castagnoli), j)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeTask(tk.ID, bc.rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
