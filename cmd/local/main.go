// Command local runs the whole system on one machine: the HTTP API on ADDR,
// an embedded queue with SQS semantics, the worker and the task store. It
// drives the same handlers that run in Lambda, with the same events. See the
// README for its configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/asyncprime/asyncprime/internal/cmdmain"
	"github.com/asyncprime/asyncprime/internal/local"
)

func main() { cmdmain.Run("local", run) }

func run(ctx context.Context) error {
	cfg, err := local.ConfigFromEnv()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.Level()}))
	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		stopProfiling, err := serveProfiles(addr, log)
		if err != nil {
			return fmt.Errorf("PPROF_ADDR: %w", err)
		}
		defer stopProfiling()
	}
	b, err := local.OpenBackend(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.Close()
	return local.NewSystem(cfg, b, log).Serve(ctx, cfg.Addr, log, nil)
}

// serveProfiles serves net/http/pprof on addr (a loopback address, for
// profiling under load: PPROF_ADDR=127.0.0.1:6060) until the returned
// function is called.
func serveProfiles(addr string, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof server stopped", slog.Any("error", err))
		}
	}()
	log.Info("pprof", slog.String("url", "http://"+ln.Addr().String()+"/debug/pprof/"))
	return func() { srv.Close() }, nil
}
