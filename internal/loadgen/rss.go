package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
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

// rssSampler samples VmRSS of one process until stopped.
type rssSampler struct {
	pid  int
	read func() ([]byte, error)
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	start   uint64
	maxRSS  uint64
	last    uint64
	samples int
	err     error
}

// startRSSSampler reads /proc/PID/status once, failing if it cannot, and
// then samples it every interval until stop is called.
func startRSSSampler(pid int, interval time.Duration) (*rssSampler, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	s := &rssSampler{
		pid:  pid,
		read: func() ([]byte, error) { return os.ReadFile(path) },
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	m, err := s.sample()
	if err != nil {
		return nil, fmt.Errorf("server pid (-pid) %d: %w", pid, err)
	}
	s.start = m.rssKiB
	go s.loop(interval)
	return s, nil
}

func (s *rssSampler) sample() (memStatus, error) {
	b, err := s.read()
	if err != nil {
		return memStatus{}, err
	}
	m, err := parseProcStatus(b)
	if err != nil {
		return m, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	s.last = m.rssKiB
	s.maxRSS = max(s.maxRSS, m.rssKiB)
	return m, nil
}

func (s *rssSampler) loop(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if _, err := s.sample(); err != nil {
				s.mu.Lock()
				if s.err == nil {
					s.err = err
				}
				s.mu.Unlock()
			}
		}
	}
}

// finish stops sampling, takes a last sample with VmHWM, and reports.
func (s *rssSampler) finish() *RSSReport {
	close(s.stop)
	<-s.done
	m, err := s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && s.err == nil {
		s.err = err
	}
	r := &RSSReport{
		PID:           s.pid,
		HWMMiB:        mib(m.hwmKiB),
		MaxSampledMiB: mib(s.maxRSS),
		StartMiB:      mib(s.start),
		EndMiB:        mib(s.last),
		Samples:       s.samples,
	}
	r.PeakMiB = max(r.HWMMiB, r.MaxSampledMiB)
	if s.err != nil {
		r.Error = s.err.Error()
	}
	return r
}

// mib converts KiB to MiB rounded to two decimals.
func mib(kib uint64) float64 {
	return math.Round(float64(kib)/1024*100) / 100
}
