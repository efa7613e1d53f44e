package loadgen

import (
	"encoding/json"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	result := func(number string, prime *bool) *taskResult {
		return &taskResult{Number: json.Number(number), IsPrime: prime}
	}
	tests := []struct {
		name    string
		n       int64
		st      statusResponse
		wantErr bool
	}{
		{name: "prime", n: 1000003, st: statusResponse{TaskID: "t", Result: result("1000003", &yes)}},
		{name: "composite", n: 1000001, st: statusResponse{TaskID: "t", Result: result("1000001", &no)}},
		{name: "no task_id echoed is fine", n: 7, st: statusResponse{Result: result("7", &yes)}},
		{name: "wrong prime", n: 1000003, st: statusResponse{Result: result("1000003", &no)}, wantErr: true},
		{name: "wrong composite", n: 1000001, st: statusResponse{Result: result("1000001", &yes)}, wantErr: true},
		{name: "other number", n: 7, st: statusResponse{Result: result("11", &yes)}, wantErr: true},
		{name: "number too big", n: 7, st: statusResponse{Result: result("99999999999999999999", &yes)}, wantErr: true},
		{name: "no result", n: 7, st: statusResponse{}, wantErr: true},
		{name: "no is_prime", n: 7, st: statusResponse{Result: result("7", nil)}, wantErr: true},
		{name: "other task", n: 7, st: statusResponse{TaskID: "u", Result: result("7", &yes)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := check(tt.n, "t", tt.st)
			if (err != nil) != tt.wantErr {
				t.Errorf("check(%d) error = %v; want error: %t", tt.n, err, tt.wantErr)
			}
		})
	}
}
