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
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// Config is the local mode's configuration; see the README's table.
type Config struct {
	Addr              string        // ADDR
	Backend           string        // BACKEND: bolt, memory or aws
	DataDir           string        // DATA_DIR, for bolt
	Workers           int           // WORKERS: concurrent worker invocations
	BatchSize         int           // BATCH_SIZE
	VisibilityTimeout time.Duration // VISIBILITY_TIMEOUT
	MaxReceiveCount   int           // MAX_RECEIVE_COUNT
	WorkerTimeout     time.Duration // WORKER_TIMEOUT: each invocation's deadline
	Retention         time.Duration // RESULT_RETENTION
	QueueURL          string        // QUEUE_URL, for aws
	TableName         string        // TABLE_NAME, for aws
}

// ConfigFromEnv reads the configuration.
func ConfigFromEnv(env *config.Env) (Config, error) {
	c := Config{
		Addr:              env.String("ADDR", "127.0.0.1:8000"),
		Backend:           env.String("BACKEND", "bolt"),
		DataDir:           env.String("DATA_DIR", ".data"),
		Workers:           env.Int("WORKERS", runtime.NumCPU()),
		BatchSize:         env.Int("BATCH_SIZE", queue.DefaultBatchSize),
		VisibilityTimeout: env.Duration("VISIBILITY_TIMEOUT", queue.DefaultVisibilityTimeout),
		MaxReceiveCount:   env.Int("MAX_RECEIVE_COUNT", task.DefaultMaxReceiveCount),
		WorkerTimeout:     env.Duration("WORKER_TIMEOUT", 10*time.Second),
		Retention:         env.Duration("RESULT_RETENTION", task.DefaultRetention),
		QueueURL:          env.String("QUEUE_URL", ""),
		TableName:         env.String("TABLE_NAME", ""),
	}
	if c.BatchSize > 10 {
		return c, fmt.Errorf("environment variable BATCH_SIZE=%d is over SQS's limit of 10", c.BatchSize)
	}
	return c, env.Err()
}

// System is the whole pipeline on one machine: the HTTP API, the queue,
// the worker poller and the task store, wired as in AWS.
type System struct {
	API    *API
	Poller *Poller
	Store  task.Store
	Queue  queue.Queue
	// Processor is the worker's; tests swap its Check to make tasks fail.
	Processor *task.Processor
}

// NewSystem wires the handlers (the very ones the Lambda functions run) to
// a store and a queue.
func NewSystem(cfg Config, store task.Store, q queue.Queue, log *slog.Logger) *System {
	submit := &api.Submit{
		Tasks:  &task.Submitter{Store: store, Queue: q, Retention: cfg.Retention, Logger: log},
		Logger: log,
	}
	status := &api.Status{Store: store, Logger: log}
	proc := &task.Processor{Store: store, MaxReceiveCount: cfg.MaxReceiveCount, Retention: cfg.Retention, Logger: log}
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
		Store:     store,
		Queue:     q,
		Processor: proc,
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
	srv := NewHTTPServer(s.API, log)
	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	polled := make(chan struct{})
	go func() {
		s.Poller.Run(pollCtx)
		close(polled)
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.InfoContext(ctx, "serving", slog.String("addr", ln.Addr().String()), slog.Int("workers", s.Poller.Concurrency))
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
