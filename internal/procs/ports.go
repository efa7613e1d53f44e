package procs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Port is a loopback TCP port reserved for a child that must be told a
// port number and cannot be handed a listening socket. Close releases it.
type Port struct {
	Number int
	lock   *os.File
}

// Addr is 127.0.0.1:Number.
func (p *Port) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Number)) }

// Close releases the reservation.
func (p *Port) Close() error { return p.lock.Close() }

// ReservePort returns a loopback port that:
//   - lies outside the kernel's ephemeral range, so that no port-0 bind and
//     no outgoing connection, of this process or any other, is given it;
//   - no other process (or goroutine) calling ReservePort holds: each
//     reservation is an exclusive flock(2) on a file under os.TempDir(),
//     which the kernel drops if the holder dies;
//   - nothing listens on at the time of the call (a bind probe).
//
// What remains is a program outside this scheme binding that very port
// between the probe and the child's bind; the child then fails with
// "address already in use", and ListeningPorts keeps the port of another
// process from passing for the child's. Hold the reservation for as long as
// the child runs (Start's held).
func ReservePort() (*Port, error) {
	lo, hi := candidatePorts()
	dir := filepath.Join(os.TempDir(), "asyncprime-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("reserve a port: %w", err)
	}
	os.Chmod(dir, 0o777|os.ModeSticky) // shared by every user, like /tmp
	p, err := reservePort(dir, func() int { return lo + rand.IntN(hi-lo+1) })
	if err != nil {
		return nil, fmt.Errorf("reserve a port: no free port found in %d-%d", lo, hi)
	}
	return p, nil
}

// reservePort tries up to 200 candidates, locked under dir, until one is
// unlocked and free.
func reservePort(dir string, candidate func() int) (*Port, error) {
	for range 200 {
		n := candidate()
		lock, err := lockPort(dir, n)
		if err != nil {
			continue
		}
		probe, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n)))
		if err != nil {
			lock.Close()
			continue
		}
		probe.Close()
		return &Port{Number: n, lock: lock}, nil
	}
	return nil, errors.New("no free port")
}

// lockPort takes the exclusive, non-blocking lock of port n's file.
func lockPort(dir string, n int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(n)+".lock"), os.O_RDONLY|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	if err := flock(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// candidatePorts returns the range ReservePort chooses from: below the
// ephemeral range and above 20000, or above it if there is no room below.
func candidatePorts() (lo, hi int) {
	ephLo, ephHi := ephemeralPorts()
	switch {
	case ephLo-1 >= 21000:
		return 20000, ephLo - 1
	case ephHi+1 <= 64535:
		return ephHi + 1, 65535
	default:
		return 10000, 65535 // no room outside it: the lock and the probe still apply
	}
}

// ephemeralPorts returns the kernel's ephemeral port range: Linux's from
// /proc, else IANA's, which BSD and macOS use.
func ephemeralPorts() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			lo, err1 := strconv.Atoi(f[0])
			hi, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && 0 < lo && lo <= hi && hi <= 65535 {
				return lo, hi
			}
		}
	}
	return 49152, 65535
}

// Listening reports whether the process pid itself listens on every one of
// ports (on Linux, where ListeningPorts can tell) or, elsewhere, whether
// each port accepts a connection.
func Listening(ctx context.Context, pid int, ports ...int) bool {
	have, err := ListeningPorts(pid)
	if errors.Is(err, errors.ErrUnsupported) {
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		for _, n := range ports {
			c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n)))
			if err != nil {
				return false
			}
			c.Close()
		}
		return true
	}
	if err != nil {
		return false
	}
	for _, n := range ports {
		if !have[n] {
			return false
		}
	}
	return true
}
