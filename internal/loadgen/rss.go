package loadgen

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// RSSReport is the resident memory of the server process during the run,
// in MiB, from /proc/PID/status.
type RSSReport struct {
	PID int `json:"pid"`
	// PeakMiB is the larger of HWMMiB and MaxSampledMiB.
	PeakMiB float64 `json:"peak_mib"`
	// HWMMiB is VmHWM read at the end: the kernel's record of the peak
	// resident set over the process's whole life, so it includes anything
	// before the run. 0 if the process was gone by then.
	HWMMiB float64 `json:"hwm_mib"`
	// MaxSampledMiB, StartMiB and EndMiB come from VmRSS samples.
	MaxSampledMiB float64 `json:"max_sampled_mib"`
	StartMiB      float64 `json:"start_mib"`
	EndMiB        float64 `json:"end_mib"`
	Samples       int     `json:"samples"`
	// Error is the first failed read after the start, if any (for example
	// the process exited).
	Error string `json:"error,omitempty"`
}

// memStatus is the memory part of /proc/PID/status, in KiB.
type memStatus struct {
	rssKiB, hwmKiB uint64
}

// parseProcStatus reads VmRSS and VmHWM from the text of /proc/PID/status,
// whose lines look like "VmRSS:	   12345 kB".
func parseProcStatus(b []byte) (memStatus, error) {
	var m memStatus
	var haveRSS, haveHWM bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("parse %s: %w", key, err)
		}
		if key == "VmRSS" {
			m.rssKiB, haveRSS = n, true
		} else {
			m.hwmKiB, haveHWM = n, true
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !haveRSS || !haveHWM {
		// Kernel threads and zombies have no Vm* lines.
		return m, errors.New("no VmRSS/VmHWM lines (not a user process, or a zombie)")
	}
	return m, nil
}

// startRSSSampler reads /proc/PID/status once, failing if it cannot, and
// then samples it every interval until finish is called. finish takes a
// last sample, with VmHWM, and reports.
func startRSSSampler(pid int, interval time.Duration) (finish func() *RSSReport, err error) {
	read := func() (memStatus, error) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return memStatus{}, err
		}
		return parseProcStatus(b)
	}
	first, err := read()
	if err != nil {
		return nil, fmt.Errorf("server pid (-pid) %d: %w", pid, err)
	}
	stop, done := make(chan struct{}), make(chan *RSSReport)
	go func() {
		maxRSS, last, samples := first.rssKiB, first.rssKiB, 1
		var firstErr error // the first failed read, if any
		sample := func() memStatus {
			m, err := read()
			if err != nil {
				firstErr = cmp.Or(firstErr, err)
				return m
			}
			samples++
			last, maxRSS = m.rssKiB, max(maxRSS, m.rssKiB)
			return m
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sample()
			case <-stop:
				m := sample()
				r := &RSSReport{PID: pid, HWMMiB: mib(m.hwmKiB), MaxSampledMiB: mib(maxRSS),
					StartMiB: mib(first.rssKiB), EndMiB: mib(last), Samples: samples}
				r.PeakMiB = max(r.HWMMiB, r.MaxSampledMiB)
				if firstErr != nil {
					r.Error = firstErr.Error()
				}
				done <- r
				return
			}
		}
	}()
	return func() *RSSReport { close(stop); return <-done }, nil
}

// mib converts KiB to MiB rounded to two decimals.
func mib(kib uint64) float64 {
	return math.Round(float64(kib)/1024*100) / 100
}
