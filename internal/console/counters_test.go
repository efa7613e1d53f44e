package console

import (
	"fmt"
	"slices"
	"testing"
)

func TestUpsert(t *testing.T) { // not parallel: AllocsPerRun
	ids := func(rows []TaskRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.TaskID)
		}
		return out
	}
	var rows []TaskRow
	for i := range 5 {
		rows = upsert(rows, TaskRow{TaskID: fmt.Sprint(i), Number: "n"}, 3)
	}
	if got := ids(rows); !slices.Equal(got, []string{"4", "3", "2"}) {
		t.Fatalf("after 5 inserts with limit 3: %v; want [4 3 2]", got)
	}
	rows = upsert(rows, TaskRow{TaskID: "2"}, 3)
	if got := ids(rows); !slices.Equal(got, []string{"2", "4", "3"}) || rows[0].Number != "n" {
		t.Errorf("after updating 2: %v %+v; want [2 4 3], its number kept", got, rows[0])
	}
	rows = upsert(rows, TaskRow{TaskID: "3"}, 3)
	if got := ids(rows); !slices.Equal(got, []string{"3", "2", "4"}) {
		t.Errorf("after updating the last: %v; want [3 2 4]", got)
	}
	if allocs := testing.AllocsPerRun(100, func() { rows = upsert(rows, TaskRow{TaskID: "x"}, 3) }); allocs != 0 {
		t.Errorf("upsert allocates %v times at the limit; want 0", allocs)
	}
}

func TestHostAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1:8000", true},
		{"[::1]:8000", true},
		{"localhost:8000", true},
		{"localhost", true},
		{"console.localhost", true},
		{"192.168.1.20:8000", true},
		{"evil.example:8000", false},
		{"localhost.evil.example", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := hostAllowed(tt.host); got != tt.want {
			t.Errorf("hostAllowed(%q) = %v; want %v", tt.host, got, tt.want)
		}
	}
}
