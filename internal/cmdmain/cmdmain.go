// Package cmdmain is what the main of each long-running command in cmd/
// does the same way: run until done or until SIGINT or SIGTERM cancels
// its context, and exit 1 with the error on stderr. It is to cmd/ what
// lambdamain is to functions/.
package cmdmain

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Run calls run with a context that SIGINT and SIGTERM cancel. An error
// goes to stderr, prefixed by name, and the process exits 1.
func Run(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
