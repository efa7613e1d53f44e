package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/console"
	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// Config is the local mode's configuration; see the README's table.
type Config struct {
	Addr              string        `env:"ADDR"`
	Backend           string        `env:"BACKEND"`  // bolt, memory or aws
	DataDir           string        `env:"DATA_DIR"` // for bolt
	Workers           int           `env:"WORKERS"`  // concurrent worker invocations
	BatchSize         int           `env:"BATCH_SIZE"`
	VisibilityTimeout time.Duration `env:"VISIBILITY_TIMEOUT"`
	MaxReceiveCount   int           `env:"MAX_RECEIVE_COUNT"`
	WorkerTimeout     time.Duration `env:"WORKER_TIMEOUT"` // each invocation's deadline
	Retention         time.Duration `env:"RESULT_RETENTION"`
	QueueURL          string        `env:"QUEUE_URL"`  // for aws
	TableName         string        `env:"TABLE_NAME"` // for aws
	LogLevel          string        `env:"LOG_LEVEL"`
}

// ConfigFromEnv reads the configuration.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Addr:              "127.0.0.1:8000",
		Backend:           "bolt",
		DataDir:           ".data",
		Workers:           runtime.NumCPU(),
		BatchSize:         queue.DefaultBatchSize,
		VisibilityTimeout: queue.DefaultVisibilityTimeout,
		MaxReceiveCount:   task.DefaultMaxReceiveCount,
		WorkerTimeout:     worker.DefaultTimeout,
		Retention:         task.DefaultRetention,
		LogLevel:          "info",
	}
	if err := config.Load(&c); err != nil {
		return c, err
	}
	if c.BatchSize > queue.MaxBatch {
		return c, fmt.Errorf("environment variable BATCH_SIZE=%d is over SQS's limit of %d", c.BatchSize, queue.MaxBatch)
	}
	return c, nil
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
}

// NewSystem wires the handlers (the very ones the Lambda functions run) to
// a store and a queue.
func NewSystem(cfg Config, store task.Store, q queue.Queue, log *slog.Logger) *System {
	counters := console.NewCounters(nil)
	observed := metrics.Observe(store, counters)
	submit := &api.Submit{
		Tasks:  &task.Submitter{Store: observed, Queue: q, Retention: cfg.Retention, Logger: log},
		Logger: log,
	}
	status := &api.Status{Store: store, Revoker: observed, Retention: cfg.Retention, Logger: log}
	proc := &task.Processor{Store: observed, MaxReceiveCount: cfg.MaxReceiveCount, Retention: cfg.Retention, Logger: log}
	work := &worker.Handler{Processor: proc, Logger: log}
	return &System{
		API: &API{Submit: submit.Handle, Status: status.Handle, Logger: log},
		Poller: &Poller{
			Queue:           q,
			Handler:         work.Handle,
			BatchSize:       cfg.BatchSize,
			WaitTime:        20 * time.Second,
			Concurrency:     cfg.Workers,
			FunctionTimeout: cfg.WorkerTimeout,
			Logger:          log,
		},
		Store: observed,
		Queue: q,
		Console: console.New(console.Config{
			Backend: cfg.Backend, Store: observed, Queue: q, Counters: counters,
			MaxReceiveCount: cfg.MaxReceiveCount, Retention: cfg.Retention, Logger: log,
		}),
	}
}

// Serve runs the system until ctx is done, then shuts down gracefully: it
// stops accepting requests, lets those in progress finish, and lets the
// worker finish the batches it holds. ready, if not nil, is called with the
// listening address.
func (s *System) Serve(ctx context.Context, addr string, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set ADDR to use another address): %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	polled := make(chan struct{})
	go func() {
		s.Poller.Run(pollCtx)
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
		log.InfoContext(ctx, "shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	stopPolling()
	<-polled
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
