package task

import (
	"fmt"
	"strings"
	"testing"
)

func TestBatchIDs(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 2, MaxBatch, 300} {
		ids := NewBatchIDs(n)
		if len(ids) != n {
			t.Fatalf("NewBatchIDs(%d) returned %d ids", n, len(ids))
		}
		seen := map[string]bool{}
		for i, id := range ids {
			if !ValidID(id) || id[14] != '8' {
				t.Fatalf("NewBatchIDs(%d)[%d] = %q; want a valid version 8 id", n, i, id)
			}
			if seen[id] {
				t.Fatalf("NewBatchIDs(%d) repeated %q", n, id)
			}
			seen[id] = true
			batch, index, ok := BatchOf(id)
			if !ok || index != i || batch != ids[0][:BatchNameLen] {
				t.Fatalf("BatchOf(%q) = %q, %d, %v; want %q, %d, true", id, batch, index, ok, ids[0][:BatchNameLen], i)
			}
		}
	}
	a, b := NewBatchIDs(2), NewBatchIDs(2)
	if a[0][:BatchNameLen] == b[0][:BatchNameLen] {
		t.Errorf("two batches share the name %q", a[0][:BatchNameLen])
	}
	if a[0][:13] > NewID()[:13] {
		t.Errorf("batch id %q is later than a version 7 id made after it: want the same time prefix", a[0])
	}
	for _, id := range []string{NewID(), "3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71", "3f2b8c1e-7d4a-8e59-9b1c-2a6f0e8d4c7", "3F2B8C1E-7D4A-8E59-9B1C-2A6F0E8D0001"} {
		if batch, index, ok := BatchOf(id); ok {
			t.Errorf("BatchOf(%q) = %q, %d, true; want false (not a lowercase version 8 id)", id, batch, index)
		}
	}
}

// FuzzParseID checks that ParseID accepts only what ValidID does, and that
// BatchOf reads back exactly the id it was given.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{NewID(), NewBatchIDs(3)[2], "3F2B8C1E-7D4A-8E59-9B1C-2A6F0E8D00FF", "3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71", "../../etc/passwd", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := ParseID(s)
		if ok != ValidID(id) || ok && (id != strings.ToLower(s) || len(id) != 36) {
			t.Fatalf("ParseID(%q) = %q, %v; ValidID says %v", s, id, ok, ValidID(id))
		}
		batch, index, isBatch := BatchOf(id)
		if isBatch != (ok && id[14] == '8') {
			t.Fatalf("BatchOf(%q) ok = %v; want true exactly for a valid version 8 id", id, isBatch)
		}
		if isBatch && batch+fmt.Sprintf("%04x", index) != id {
			t.Fatalf("BatchOf(%q) = %q, %d; they do not make the id again", id, batch, index)
		}
	})
}
