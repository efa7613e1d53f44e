// Package primectl is the command line of cmd/primectl: its commands, and
// how they print.
package primectl

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/client"
	"github.com/asyncprime/asyncprime/internal/console"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Usage is the command line's help.
const Usage = `usage: primectl [flags] <command> [arguments]

commands:
  submit [-wait] NUMBER   submit a number; with -wait, poll until the task is final
  get TASK_ID             read a task
  stats                   queue depth, dead letters, tasks since start (local); SQS counts (-stack)
  health                  the local mode's /health
  redrive                 move the dead letters back to the task queue
  purge                   delete the dead letters
  retry TASK_ID           run a FAILURE task again (local mode)

flags:
`

// DefaultURL is $ASYNCPRIME_URL, or the local mode's address.
func DefaultURL() string {
	if u := os.Getenv("ASYNCPRIME_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:8000"
}

// CLI runs one command.
type CLI struct {
	API *client.Client
	// Queue, if set (-stack), serves stats, redrive and purge through the
	// SQS API instead of the local console's.
	Queue console.AdminQueue
	// Store, if set with Queue (-stack, its table), lets a redrive reopen
	// the tasks that failed because they were dead-lettered, so that they
	// run again (task.ReopenDeadLettered), as the console's redrive does.
	Store task.DeadLetterStore
	Out   io.Writer
	JSON  bool // print the API's JSON as it is
	// Poll is the interval of submit -wait; 200 ms if zero.
	Poll time.Duration
}

// Run runs the command args[0] with its arguments.
func (c *CLI) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("no command; try primectl -h")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "submit":
		return c.submit(ctx, args)
	case "get":
		id, err := one(cmd, args, "TASK_ID")
		if err != nil {
			return err
		}
		t, raw, err := c.API.Task(ctx, id)
		return c.print(raw, err, func() { c.task(t) })
	case "stats":
		if err := none(cmd, args); err != nil {
			return err
		}
		if c.Queue != nil {
			return c.queueStats(ctx)
		}
		s, raw, err := c.API.Stats(ctx)
		return c.print(raw, err, func() { c.stats(s) })
	case "health":
		if err := none(cmd, args); err != nil {
			return err
		}
		if c.Queue != nil {
			return errors.New("a deployed stack has no /health (API Gateway serves only the task API); use stats")
		}
		h, raw, err := c.API.Health(ctx)
		return c.print(raw, err, func() {
			fmt.Fprintf(c.Out, "%s (store %s, queue %s)\n", h.Status, h.Checks["store"], h.Checks["queue"])
		})
	case "redrive", "purge":
		if err := none(cmd, args); err != nil {
			return err
		}
		if c.Queue != nil {
			return c.queueAction(ctx, cmd)
		}
		r, raw, err := c.API.Action(ctx, cmd, "")
		return c.print(raw, err, func() { fmt.Fprintln(c.Out, r.Message) })
	case "retry":
		id, err := one(cmd, args, "TASK_ID")
		if err != nil {
			return err
		}
		if c.Queue != nil {
			return errors.New("retry works through the local mode's console: run make run-aws with the stack's QUEUE_URL and TABLE_NAME, then primectl retry")
		}
		r, raw, err := c.API.Action(ctx, cmd, id)
		return c.print(raw, err, func() { fmt.Fprintln(c.Out, r.Message) })
	default:
		return fmt.Errorf("unknown command %q; try primectl -h", cmd)
	}
}

func (c *CLI) submit(ctx context.Context, args []string) error {
	// Parsed by hand, so that a negative number is not taken for a flag.
	wait := false
	var rest []string
	for _, a := range args {
		if a == "--" {
			continue
		}
		if a == "-wait" || a == "--wait" {
			wait = true
			continue
		}
		rest = append(rest, a)
	}
	n, err := one("submit", rest, "NUMBER")
	if err != nil {
		return err
	}
	s, raw, err := c.API.Submit(ctx, n)
	if err != nil {
		return err
	}
	if !wait {
		return c.print(raw, nil, func() { fmt.Fprintln(c.Out, s.TaskID) })
	}
	t, raw, err := c.API.Wait(ctx, s.TaskID, cmp.Or(c.Poll, 200*time.Millisecond))
	return c.print(raw, err, func() { c.task(t) })
}

// print returns err if there is one; else it prints the API's answer, raw
// with -json, else as human does.
func (c *CLI) print(raw []byte, err error, human func()) error {
	if err != nil {
		return err
	}
	if c.JSON {
		_, err := fmt.Fprintln(c.Out, strings.TrimSpace(string(raw)))
		return err
	}
	human()
	return nil
}

func (c *CLI) task(t api.StatusResponse) {
	// A number of up to 64 bits is checked without a STARTED write, so
	// its task counts no attempts: say nothing of them then.
	attempts := ""
	if t.Attempts > 0 {
		attempts = fmt.Sprintf(" (attempts %d)", t.Attempts)
	}
	switch {
	case t.Status == "SUCCESS" && t.Result != nil:
		verdict := "is not prime"
		if t.Result.IsPrime {
			verdict = "is prime"
		}
		fmt.Fprintf(c.Out, "%s SUCCESS: %s %s%s\n", t.TaskID, t.Result.Number, verdict, attempts)
	case t.Status == "FAILURE":
		fmt.Fprintf(c.Out, "%s FAILURE: %s%s\n", t.TaskID, t.Error, attempts)
	default:
		fmt.Fprintf(c.Out, "%s %s%s\n", t.TaskID, t.Status, attempts)
	}
}

func (c *CLI) stats(s console.Stats) {
	line := func(name string, q *console.QueueCounts) {
		if q == nil {
			fmt.Fprintf(c.Out, "%-13s unavailable\n", name)
			return
		}
		oldest := ""
		if q.OldestAgeSeconds != nil {
			oldest = fmt.Sprintf(", oldest %.1f s", *q.OldestAgeSeconds)
		}
		fmt.Fprintf(c.Out, "%-13s %d waiting, %d in flight%s\n", name, q.Visible+q.Delayed, q.InFlight, oldest)
	}
	fmt.Fprintf(c.Out, "backend       %s\n", s.Backend)
	line("queue", s.Queue)
	line("dead letters", s.DeadLetters)
	t := s.SinceStart.Totals
	fmt.Fprintf(c.Out, "since start   %s: submitted %d, pending %d, running %d, succeeded %d, failed %d, retried %d\n",
		s.SinceStart.Since.Local().Format(time.DateTime), t.Submitted, t.Pending, t.Running, t.Succeeded, t.Failed, t.Retried)
	for k, v := range s.Errors {
		fmt.Fprintf(c.Out, "error         %s: %s\n", k, v)
	}
}

func (c *CLI) queueStats(ctx context.Context) error {
	q, err := c.Queue.Counts(ctx)
	if err != nil {
		return err
	}
	d, err := c.Queue.DeadLetterCounts(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		b, _ := json.Marshal(map[string]queue.Counts{"queue": q, "dead_letters": d})
		fmt.Fprintln(c.Out, string(b))
		return nil
	}
	fmt.Fprintf(c.Out, "queue         %d waiting, %d in flight (SQS, approximate)\n", q.Visible+q.Delayed, q.InFlight)
	fmt.Fprintf(c.Out, "dead letters  %d\n", d.Total())
	return nil
}

func (c *CLI) queueAction(ctx context.Context, action string) error {
	d, err := c.Queue.DeadLetterCounts(ctx)
	if err != nil {
		return err
	}
	if d.Total() == 0 {
		return fmt.Errorf("the dead-letter queue is empty: nothing to %s", action)
	}
	if action == "purge" {
		n, err := c.Queue.PurgeDeadLetters(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.Out, "deleted "+queue.DeadLetters(n))
		return nil
	}
	reopened := 0
	if c.Store != nil {
		ids, err := console.ReopenDeadLettered(ctx, c.Queue, c.Store, task.DefaultRetention, time.Now())
		if err != nil {
			return fmt.Errorf("redrive: reopen the dead-lettered tasks (nothing was moved; the %d reopened go back to FAILURE at the dead-letter function's next runs): %w", len(ids), err)
		}
		reopened = len(ids)
	}
	r, err := c.Queue.RedriveDeadLetters(ctx)
	if err != nil {
		return err
	}
	if reopened > 0 {
		fmt.Fprintln(c.Out, queue.Reopened(reopened))
	}
	fmt.Fprintln(c.Out, r)
	return nil
}

func one(cmd string, args []string, what string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("%s takes one argument, %s", cmd, what)
	}
	return args[0], nil
}

func none(cmd string, args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("%s takes no argument", cmd)
	}
	return nil
}
