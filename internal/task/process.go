package task

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/asyncprime/asyncprime/internal/prime"
)

// Checker decides whether n is prime. It returns ctx's error, soon, once ctx
// is done. CheckPrime is the real one; tests inject others to make
// processing fail.
type Checker func(ctx context.Context, n Number) (bool, error)

// CheckPrime is the primality check: exact for every Number ParseNumber
// accepts.
func CheckPrime(ctx context.Context, n Number) (bool, error) {
	if v, ok := n.Int64(); ok {
		return v > 1 && prime.IsPrime64(uint64(v)), nil
	}
	b, err := n.Big()
	if err != nil {
		return false, err
	}
	return prime.IsPrime(ctx, b)
}

// Transitioner is the part of a Store that Processor needs.
type Transitioner interface {
	Start(ctx context.Context, id string, at time.Time) (Task, error)
	Finish(ctx context.Context, id string, out Outcome) error
}

// DefaultMaxReceiveCount matches the template's redrive policy: the number of
// deliveries after which SQS moves a message to the dead-letter queue.
const DefaultMaxReceiveCount = 5

// Delivery is one receipt of a queue message.
type Delivery struct {
	Body string
	// ReceiveCount is SQS's ApproximateReceiveCount: 1 on the first delivery.
	ReceiveCount int
}

// PoisonError marks a message that can never be processed, such as one whose
// body does not decode. Processing it again will not help; the queue's
// redrive policy moves it to the dead-letter queue.
type PoisonError struct{ Err error }

func (e *PoisonError) Error() string { return "poison message: " + e.Err.Error() }
func (e *PoisonError) Unwrap() error { return e.Err }

// Processor runs delivered jobs: it checks the number and records SUCCESS,
// or FAILURE on the last allowed attempt. For a number beyond 64 bits,
// whose check may take long, it first moves the task to STARTED (one more
// store write); a number of up to 64 bits travels in the message (see
// MessageFor) and its task goes from PENDING to its result in one write.
type Processor struct {
	Store Transitioner
	Check Checker // CheckPrime if nil
	// MaxReceiveCount is the redrive policy's maxReceiveCount: the delivery
	// with this ReceiveCount is the last, and records FAILURE if processing
	// fails again. DefaultMaxReceiveCount if zero.
	MaxReceiveCount int
	Retention       time.Duration    // DefaultRetention if zero
	Now             func() time.Time // time.Now if nil
	Logger          *slog.Logger     // slog.Default() if nil

	turns     chan struct{} // see bigChecks
	turnsOnce sync.Once
}

// Process handles one delivery. A nil error means the message is done with
// and may be deleted: the task is final, or was already final (a duplicate
// delivery), or no longer exists. An error means the message must come back
// for another attempt; this is the one place failures are classified.
func (p *Processor) Process(ctx context.Context, d Delivery) error {
	log := cmp.Or(p.Logger, slog.Default())
	msg, err := DecodeMessage(d.Body)
	if err != nil {
		// Nothing to record: the body names no task. Let the redrive policy
		// move it to the dead-letter queue, where it can be inspected.
		return &PoisonError{Err: err}
	}
	t := Task{ID: msg.TaskID, Number: msg.Number}
	if Big(msg.Number) { // also a message without a number
		// The check may take long: record STARTED first, so that a client
		// sees the task running; the write also reads the number.
		if t, err = p.start(ctx, msg.TaskID); err != nil || t.ID == "" {
			return err
		}
	}

	isPrime, checkErr := p.check(ctx, t.Number)
	out := Outcome{Status: StatusSuccess, IsPrime: isPrime}
	if checkErr != nil {
		if last := cmp.Or(p.MaxReceiveCount, DefaultMaxReceiveCount); d.ReceiveCount < last {
			return fmt.Errorf("check task %s (delivery %d of %d): %w", t.ID, d.ReceiveCount, last, checkErr)
		}
		out = Outcome{Status: StatusFailure, Error: fmt.Sprintf("check failed on each of %d deliveries of its message; last error: %v", d.ReceiveCount, checkErr)}
	}
	now := p.now()
	out.FinishedAt, out.ExpiresAt = now, now.Add(cmp.Or(p.Retention, DefaultRetention))
	finish := func(ctx context.Context) error { return p.Store.Finish(ctx, t.ID, out) }
	switch err := p.retryStore(ctx, "finish", t.ID, finish); {
	case errors.Is(err, ErrConflict):
		alreadyFinal(ctx, log, t.ID, err, "its result is not recorded")
	case errors.Is(err, ErrNotFound):
		log.WarnContext(ctx, "message for a task that does not exist", slog.String("task_id", t.ID))
		return nil
	case errors.Is(err, ErrDamaged):
		return &PoisonError{Err: err}
	case err != nil:
		return err // the store's error names the task
	}
	if checkErr != nil {
		// The FAILURE is recorded; the message still goes to the DLQ so that
		// an operator sees it.
		return &PoisonError{Err: fmt.Errorf("task %s failed: %w", t.ID, checkErr)}
	}
	return nil
}

// start records STARTED and returns the task as written. A zero Task with a
// nil error means the message is done with: the task is final already, or
// gone.
func (p *Processor) start(ctx context.Context, id string) (Task, error) {
	log := cmp.Or(p.Logger, slog.Default())
	var t Task
	err := p.retryStore(ctx, "start", id, func(ctx context.Context) (err error) {
		t, err = p.Store.Start(ctx, id, p.now())
		return err
	})
	switch {
	case errors.Is(err, ErrConflict):
		alreadyFinal(ctx, log, id, err, "it is not checked")
		return Task{}, nil
	case errors.Is(err, ErrNotFound):
		log.WarnContext(ctx, "message for a task that does not exist", slog.String("task_id", id))
		return Task{}, nil
	case errors.Is(err, ErrDamaged):
		// No retry repairs it: let the message go to the dead-letter queue.
		return Task{}, &PoisonError{Err: err}
	case err != nil:
		return Task{}, err // the store's error names the task
	}
	return t, nil
}

// alreadyFinal logs that a delivery found task id final (err, from Start
// or Finish, says in which state, where the store knows): a client revoked
// it, or another delivery of its message recorded its result. outcome
// says what becomes of this delivery's work.
func alreadyFinal(ctx context.Context, log *slog.Logger, id string, err error, outcome string) {
	fe, known := errors.AsType[*FinalError](err)
	switch {
	case known && fe.Status == StatusRevoked:
		log.InfoContext(ctx, "task was revoked (cancelled by a client); "+outcome, slog.String("task_id", id))
	case known: // a duplicate delivery, or the task was settled or withdrawn
		log.InfoContext(ctx, "task is already final; "+outcome, slog.String("task_id", id), slog.String("status", string(fe.Status)))
	default:
		log.InfoContext(ctx, "task is already final; "+outcome, slog.String("task_id", id), slog.Any("reason", err))
	}
}

// FinishReserve is the time a check leaves before the invocation's deadline
// for recording its result.
const FinishReserve = time.Second

// ErrCheckTimeout means a check could not finish before the invocation's
// deadline; the message comes back and the check runs again.
var ErrCheckTimeout = errors.New("the check did not finish before the worker's deadline")

// check runs the check with a deadline FinishReserve before the
// invocation's, so that its result can still be recorded; the check stops
// between rounds once that deadline passes, and returns before Process does.
// Checks of more than 64 bits take turns for the CPU, so that the records of
// one batch do not all slow each other down.
func (p *Processor) check(ctx context.Context, n Number) (isPrime bool, err error) {
	if _, small := n.Int64(); small && p.Check == nil {
		return CheckPrime(ctx, n) // a microsecond: no deadline to watch
	}
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-FinishReserve))
		defer cancel()
	}
	if _, small := n.Int64(); !small {
		turns := p.bigChecks()
		select {
		case turns <- struct{}{}:
			defer func() { <-turns }()
		case <-ctx.Done():
			return false, ErrCheckTimeout
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("check panicked: %v", r)
		}
	}()
	check := p.Check
	if check == nil {
		check = CheckPrime
	}
	isPrime, err = check(ctx, n)
	if err != nil && ctx.Err() != nil {
		return false, fmt.Errorf("%w: %w", ErrCheckTimeout, err)
	}
	return isPrime, err
}

// bigChecks returns the semaphore that bounds the checks of numbers beyond
// 64 bits this Processor runs at once to the CPUs there are.
func (p *Processor) bigChecks() chan struct{} {
	p.turnsOnce.Do(func() { p.turns = make(chan struct{}, runtime.GOMAXPROCS(0)) })
	return p.turns
}

func (p *Processor) now() time.Time { return now(p.Now) }
