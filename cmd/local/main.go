// Command local runs the whole system on one machine: the HTTP API on ADDR,
// an embedded queue with SQS semantics, the worker and the task store. It
// drives the same handlers that run in Lambda, with the same events. See the
// README for its configuration.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/asyncprime/asyncprime/internal/local"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := local.ConfigFromEnv()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)}))
	b, err := local.OpenBackend(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.Close()
	return local.NewBackendSystem(cfg, b, log).Serve(ctx, cfg.Addr, log, nil)
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}
