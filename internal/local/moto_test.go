package local

import (
	"errors"
	"strings"
	"testing"
)

func TestMotoGoneSaysHowMotoExited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		exit error
		want string
	}{
		{name: "clean exit, as after SIGTERM", exit: nil, want: "exited (exit status 0):"},
		{name: "killed", exit: errors.New("signal: killed"), want: "exited (signal: killed):"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := motoGone("http://127.0.0.1:5050", tt.exit).Error()
			if !strings.Contains(got, tt.want) || strings.Contains(got, "<nil>") {
				t.Errorf("motoGone = %q; want it to contain %q", got, tt.want)
			}
			if !strings.HasPrefix(got, "moto (http://127.0.0.1:5050), which held the queues and the table,") {
				t.Errorf("motoGone = %q; want it to name moto and its endpoint", got)
			}
		})
	}
}
