package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/console"
	"github.com/asyncprime/asyncprime/internal/deadletter"
	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// Config is the local mode's configuration; see the README's table.
type Config struct {
	Addr      string `env:"ADDR"`
	Backend   string `env:"BACKEND"`  // bolt, memory or aws
	DataDir   string `env:"DATA_DIR"` // for bolt
	Workers   int    `env:"WORKERS"`  // concurrent worker invocations
	BatchSize int    `env:"BATCH_SIZE"`
	// BigWorkers and BigBatchSize are the same for the queue of numbers
	// beyond 64 bits.
	BigWorkers        int           `env:"BIG_WORKERS"`
	BigBatchSize      int           `env:"BIG_BATCH_SIZE"`
	VisibilityTimeout time.Duration `env:"VISIBILITY_TIMEOUT"`
	MaxReceiveCount   int           `env:"MAX_RECEIVE_COUNT"`
	WorkerTimeout     time.Duration `env:"WORKER_TIMEOUT"` // each invocation's deadline
	Retention         time.Duration `env:"RESULT_RETENTION"`
	QueueURL          string        `env:"QUEUE_URL"`  // for aws
	TableName         string        `env:"TABLE_NAME"` // for aws
	// DeadLetterQueueURL, for aws with QUEUE_URL: the dead-letter queue
	// whose tasks a settler settles.
	DeadLetterQueueURL string `env:"DEAD_LETTER_QUEUE_URL"`
	// BigQueueURL and BigDeadLetterQueueURL, for aws with QUEUE_URL: the
	// queue of numbers beyond 64 bits and its dead-letter queue.
	BigQueueURL           string `env:"BIG_QUEUE_URL"`
	BigDeadLetterQueueURL string `env:"BIG_DEAD_LETTER_QUEUE_URL"`
	LogLevel              string `env:"LOG_LEVEL"`
	// DeadLetterInterval is the time between two settle rounds of each
	// dead-letter queue (deadletter.DefaultEvery if zero).
	DeadLetterInterval time.Duration `env:"DEAD_LETTER_INTERVAL"`
}

// DefaultBigBatchSize is the local big-task worker's batch size, as the
// template's BigWorkerBatchSize default.
const DefaultBigBatchSize = 10

// DefaultWorkers is how many worker invocations the local mode runs at
// once on the task queue. A worker invocation spends its time waiting for
// its writes to commit, not on the CPU (a 64-bit check takes under a
// microsecond; numbers beyond 64 bits have their own poller), so this is
// not the number of cores (docs/benchmarks.md has the measurements).
// Lambda, likewise, reads an SQS queue with five concurrent invocations at
// first and more as the backlog grows.
const DefaultWorkers = 16

// ConfigFromEnv reads the configuration.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Addr:               "127.0.0.1:8000",
		Backend:            "bolt",
		DataDir:            ".data",
		Workers:            DefaultWorkers,
		BatchSize:          queue.DefaultBatchSize,
		BigWorkers:         1,
		BigBatchSize:       DefaultBigBatchSize,
		VisibilityTimeout:  queue.DefaultVisibilityTimeout,
		MaxReceiveCount:    task.DefaultMaxReceiveCount,
		WorkerTimeout:      worker.DefaultTimeout,
		Retention:          task.DefaultRetention,
		LogLevel:           "info",
		DeadLetterInterval: deadletter.DefaultEvery,
	}
	if err := config.Load(&c); err != nil {
		return c, err
	}
	if _, err := c.level(); err != nil {
		return c, fmt.Errorf("environment variable LOG_LEVEL=%q is not one of debug, info, warn, error", c.LogLevel)
	}
	for name, n := range map[string]int{"BATCH_SIZE": c.BatchSize, "BIG_BATCH_SIZE": c.BigBatchSize} {
		if n > queue.MaxBatch {
			return c, fmt.Errorf("environment variable %s=%d is over SQS's limit of %d", name, n, queue.MaxBatch)
		}
	}
	return c, nil
}

// Level is LogLevel as a slog.Level; ConfigFromEnv refuses a LOG_LEVEL it
// cannot parse, and INFO stands in for one set otherwise.
func (c Config) Level() slog.Level {
	l, err := c.level()
	if err != nil {
		return slog.LevelInfo
	}
	return l
}

func (c Config) level() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	return l, err
}

// System is the whole pipeline on one machine: the HTTP API, the queue,
// the worker poller and the task store, wired as in AWS.
type System struct {
	API    *API
	Poller *Poller
	// Store is the store as the handlers use it: every transition is
	// observed by the console's counters.
	Store task.Store
	Queue queue.Queue
	// Console is the operator's console and /health (internal/console).
	Console http.Handler
	// BigPoller, if not nil, runs the tasks of numbers beyond 64 bits from
	// their own queue, with workers of their own.
	BigPoller *Poller
	// Settlers look at the dead-letter queues, every DeadLetterInterval,
	// and record FAILURE for the tasks whose messages land there, leaving
	// the messages for the operator (see internal/deadletter).
	Settlers []*deadletter.Settler
	// DeadLetterInterval is the time between two rounds of each settler.
	DeadLetterInterval time.Duration
	// ShutdownTimeout bounds the wait for requests in progress when Serve
	// stops; DefaultShutdownTimeout if zero.
	ShutdownTimeout time.Duration
	// Gone is the backend's Backend.Gone: an error on it stops Serve, as
	// ctx does, and Serve returns it.
	Gone <-chan error
}

// localSettleLimit bounds the dead letters a local settle round looks at:
// a peek at a local queue and a read per message are cheap.
const localSettleLimit = 10000

// NewSystem wires the handlers (the very ones the Lambda functions run) to
// a backend, with a poller on each of its queues and a settler on each of
// its dead-letter queues.
func NewSystem(cfg Config, b *Backend, log *slog.Logger) *System {
	if cfg.WorkerTimeout <= worker.DefaultReserve {
		// Allowed, to make dead letters on purpose (the README does).
		log.Warn("WORKER_TIMEOUT is not above the worker's reserve: no task will be checked; every message goes back to its queue until it is dead-lettered and its task settled as FAILURE",
			slog.Duration("worker_timeout", cfg.WorkerTimeout), slog.Duration("reserve", worker.DefaultReserve))
	}
	counters := console.NewCounters(nil)
	observed := metrics.Observe(b.Store, counters)
	submitter := &task.Submitter{Store: observed, Queue: b.Queue, BigQueue: b.BigQueue, Retention: cfg.Retention, Logger: log}
	submit := &api.Submit{Tasks: submitter, Logger: log}
	status := &api.Status{Store: b.Store, Revoker: observed, Retention: cfg.Retention, Logger: log}
	proc := &task.Processor{Store: observed, MaxReceiveCount: cfg.MaxReceiveCount, Retention: cfg.Retention, Logger: log}
	work := &worker.Handler{Processor: proc, Logger: log}
	poller := func(q Source, batch, workers int) *Poller {
		return &Poller{Queue: q, Handler: work.Handle, BatchSize: batch, WaitTime: sqsqueue.MaxWait,
			Concurrency: workers, FunctionTimeout: cfg.WorkerTimeout, Logger: log}
	}
	s := &System{
		API:    &API{Submit: submit.Handle, Status: status.Handle, Logger: log},
		Poller: poller(b.Queue, cfg.BatchSize, cfg.Workers),
		Store:  observed,
		Queue:  b.Queue,
		Console: console.New(console.Config{
			Backend: cfg.Backend, Store: observed, Queue: b.Queue, BigQueue: b.BigQueue, Counters: counters,
			MaxReceiveCount: cfg.MaxReceiveCount, Retention: cfg.Retention, Logger: log,
		}),
		DeadLetterInterval: cfg.DeadLetterInterval,
		Gone:               b.Gone,
	}
	if b.BigQueue != nil {
		s.BigPoller = poller(b.BigQueue, cfg.BigBatchSize, cfg.BigWorkers)
	}
	reaper := &task.Reaper{Store: observed, Retention: cfg.Retention, Logger: log}
	names := []string{"tasks-dlq", "tasks-big-dlq"}
	for i, dl := range b.DeadLetters {
		name := fmt.Sprintf("dlq-%d", i)
		if i < len(names) {
			name = names[i]
		}
		st := &deadletter.Settler{
			Name: name, Queue: dl, Store: observed, Reaper: reaper,
			Limit: localSettleLimit, Logger: log,
		}
		if cfg.Backend == "aws" {
			// SQS's StartMessageMoveTask moves a redrive's messages in
			// the background: give it time before a reopened task whose
			// message still looks dead is put back to FAILURE.
			st.Limit, st.Grace = deadletter.DefaultLimit, deadletter.SQSRedriveGrace
		}
		s.Settlers = append(s.Settlers, st)
	}
	return s
}

// Serve runs the system until ctx is done, then shuts down gracefully: it
// stops accepting requests, lets those in progress finish, and lets the
// worker finish the batches it holds. An error on Gone stops it the same
// way, and Serve returns that error. ready, if not nil, is called with the
// listening address.
func (s *System) Serve(ctx context.Context, addr string, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set ADDR to use another address): %w", addr, err)
	}
	srv := NewHTTPServer(s.Handler(), log)
	conns := &connCounter{}
	srv.ConnState = conns.track
	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	polled := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, p := range []*Poller{s.Poller, s.BigPoller} {
			if p != nil {
				wg.Go(func() { p.Run(pollCtx) })
			}
		}
		for _, st := range s.Settlers {
			wg.Go(func() {
				tick := time.NewTicker(cmp.Or(s.DeadLetterInterval, deadletter.DefaultEvery))
				defer tick.Stop()
				st.Run(pollCtx, tick.C)
			})
		}
		wg.Wait()
		close(polled)
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.InfoContext(ctx, "serving", slog.String("addr", ln.Addr().String()), slog.Int("workers", s.Poller.Concurrency))
	s.announceConsole(ctx, ln.Addr(), log)
	if ready != nil {
		ready(ln.Addr())
	}

	select {
	case err = <-served:
	case <-ctx.Done():
		err = s.shutdown(srv, conns, log)
	case gone := <-s.Gone:
		log.Error("the backend is gone; stopping", slog.Any("error", gone))
		err = errors.Join(gone, s.shutdown(srv, conns, log))
	}
	stopPolling()
	<-polled
	// Handlers of connections cut short finish their own bounded work (a
	// submit's writes) before the backend closes.
	s.API.Wait()
	log.Info("stopped; the worker finished the batches it held")
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// DefaultShutdownTimeout is how long a graceful stop waits for requests in
// progress before it closes their connections.
const DefaultShutdownTimeout = 10 * time.Second

// shutdown stops accepting requests and waits up to ShutdownTimeout for
// those in progress; then it closes the connections left, saying how many.
// A request cut short that way was never answered, so no task it carried
// was accepted: that is not an error.
func (s *System) shutdown(srv *http.Server, conns *connCounter, log *slog.Logger) error {
	log.Info("shutting down", slog.Int("open_connections", conns.open()))
	ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(s.ShutdownTimeout, DefaultShutdownTimeout))
	defer cancel()
	err := srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	n := conns.open()
	if err := srv.Close(); err != nil {
		return err
	}
	log.Warn("shutdown: closed connections whose requests had not finished; their clients got no answer, so nothing they sent was accepted",
		slog.Int("connections", n), slog.Duration("waited", cmp.Or(s.ShutdownTimeout, DefaultShutdownTimeout)))
	return nil
}

// connCounter counts the server's open connections that are not idle.
type connCounter struct {
	mu    sync.Mutex
	state map[net.Conn]http.ConnState
}

func (c *connCounter) track(conn net.Conn, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == nil {
		c.state = make(map[net.Conn]http.ConnState)
	}
	switch st {
	case http.StateClosed, http.StateHijacked, http.StateIdle:
		delete(c.state, conn)
	default:
		c.state[conn] = st
	}
}

func (c *connCounter) open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.state)
}
