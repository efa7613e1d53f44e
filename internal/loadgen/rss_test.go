package loadgen

import (
	"os"
	"runtime"
	"testing"
	"time"
)

const procStatus = `Name:	asyncprime
Umask:	0022
State:	S (sleeping)
Pid:	4242
VmPeak:	 1274428 kB
VmSize:	 1274428 kB
VmHWM:	   49408 kB
VmRSS:	   41062 kB
RssAnon:	   30000 kB
Threads:	9
`

func TestParseProcStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    memStatus
		wantErr bool
	}{
		{name: "user process", in: procStatus, want: memStatus{rssKiB: 41062, hwmKiB: 49408}},
		{name: "kernel thread has no Vm lines", in: "Name:\tkthreadd\nState:\tS (sleeping)\n", wantErr: true},
		{name: "bad unit", in: "VmHWM:\t1 MB\nVmRSS:\t1 kB\n", wantErr: true},
		{name: "bad number", in: "VmHWM:\tx kB\nVmRSS:\t1 kB\n", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseProcStatus([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseProcStatus() error = %v; want error: %t", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("parseProcStatus() = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestMiB(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kib  uint64
		want float64
	}{
		{0, 0},
		{1024, 1},
		{49408, 48.25},
		{41062, 40.1},
	}
	for _, tt := range tests {
		if got := mib(tt.kib); got != tt.want {
			t.Errorf("mib(%d) = %v; want %v", tt.kib, got, tt.want)
		}
	}
}

func TestRSSSamplerOwnProcess(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	finish, err := startRSSSampler(os.Getpid(), time.Millisecond)
	if err != nil {
		t.Fatalf("startRSSSampler(self) error = %v; want nil", err)
	}
	r := finish()
	if r.PeakMiB <= 0 || r.HWMMiB < r.StartMiB || r.Samples < 2 || r.Error != "" {
		t.Errorf("finish() = %+v; want a positive peak, VmHWM >= start, at least 2 samples, no error", r)
	}
}

func TestRSSSamplerMissingProcess(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	// PIDs are capped well below this (pid_max is at most 2^22).
	if _, err := startRSSSampler(1<<30, time.Millisecond); err == nil {
		t.Errorf("startRSSSampler(no such pid) error = nil; want an error")
	}
}
