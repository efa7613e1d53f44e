package local_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/memory"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A client that never finishes its request does not turn a graceful stop
// into an error: Serve closes its connection after the shutdown timeout,
// says so, and returns nil.
func TestShutdownCutsSlowClientsAndSucceeds(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	q := memory.NewQueue(memory.QueueOptions{})
	sys := local.NewSystem(testConfig(), &local.Backend{Store: memory.NewStore(), Queue: q}, log)
	sys.ShutdownTimeout = 50 * time.Millisecond // the slow client never finishes, so any wait runs out

	ctx, cancel := context.WithCancel(t.Context())
	addrs := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- sys.Serve(ctx, "127.0.0.1:0", log, func(a net.Addr) { addrs <- a }) }()
	addr := (<-addrs).String()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The headers, then, once the handler reads the body (the server's
	// "100 Continue" says so), part of it: the request is in progress.
	// (Accepting the connection is not enough: a connection whose request
	// the server has not read yet is not in progress, and a shutdown
	// rightly does not wait for it.)
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("read %q, %v; want HTTP/1.1 100 Continue", line, err)
	}
	if _, err := io.WriteString(conn, "{\"num"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v; want nil after cutting the slow client", err)
	}
	if got := logs.String(); !strings.Contains(got, "closed connections whose requests had not finished") || strings.Contains(got, "connections=0") {
		t.Errorf("logs do not say which connections were cut short:\n%s", got)
	}
}
