// Package rie runs a Lambda function's built bootstrap under the AWS Lambda
// Runtime Interface Emulator (github.com/aws/aws-lambda-runtime-interface-emulator),
// the very program `sam local invoke` runs inside its container, and invokes
// it with events. Tests and `make invoke` use it to run the deployed shape of
// each function on this machine.
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asyncprime/asyncprime/internal/procs"
)

// Version is the pinned emulator; the Makefile installs the same one.
const Version = "v0.0.0-20261030222936-bef5c4ba774d"

// Package is the emulator's main package, for go install.
const Package = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// Function describes one function to run.
type Function struct {
	Name      string        // AWS_LAMBDA_FUNCTION_NAME
	Bootstrap string        // path of the built bootstrap (for this host's OS and architecture)
	RIE       string        // path of the aws-lambda-rie binary
	Env       []string      // the function's environment, as in the template
	Timeout   time.Duration // the function's timeout; whole seconds
	Stdout    io.Writer     // where the function's and the emulator's logs go; discarded if nil
	// RuntimeAPI, if set, is the reserved loopback port (the caller holds
	// it) on which the emulator serves the Lambda Runtime API to the
	// bootstrap; one is reserved for the emulator if nil.
	RuntimeAPI *procs.Port
	// Environ, if not nil, replaces this process's environment as the
	// base of the emulator's: the function then sees exactly Environ, Env
	// and the AWS_LAMBDA_* variables below, as in a container.
	Environ []string
}

// StartTimeout bounds how long Start waits for the emulator to listen; it
// only bounds a failure.
const StartTimeout = 2 * time.Minute

// Instance is a running emulator with its function. Like one Lambda
// execution environment, it runs one invocation at a time.
type Instance struct {
	fn   Function
	addr string
	proc *procs.Process
	mu   sync.Mutex // one invocation at a time
	http *http.Client
}

// errPortTaken means a port given to the emulator was taken by another
// program before the emulator bound it.
var errPortTaken = errors.New("port taken")

// Start runs the emulator on two loopback ports and waits until it listens
// on both, for at most StartTimeout or until ctx ends. The function itself
// starts (its init phase) on the first invocation.
//
// The emulator cannot bind port 0 and say which port it got (it tells the
// function its Runtime API address before binding it), so each port is
// reserved with procs.ReservePort for as long as the emulator runs, the
// emulator counts as listening only when procs.Listening finds the sockets
// in the emulator's own process, and a start that lost a port to another
// program ("address already in use") is tried again on other ports.
func Start(ctx context.Context, fn Function) (*Instance, error) {
	for _, p := range []string{fn.RIE, fn.Bootstrap} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("start %s under the emulator: %w", fn.Name, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		in, err := start(ctx, fn)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == 5 || ctx.Err() != nil {
			return in, err
		}
	}
}

func start(ctx context.Context, fn Function) (*Instance, error) {
	api, err := procs.ReservePort()
	if err != nil {
		return nil, err
	}
	held := []io.Closer{api}
	runtimeAPI := fn.RuntimeAPI
	if runtimeAPI == nil {
		if runtimeAPI, err = procs.ReservePort(); err != nil {
			api.Close()
			return nil, err
		}
		held = append(held, runtimeAPI)
	}
	timeout := max(int(fn.Timeout/time.Second), 1)
	cmd := exec.Command(fn.RIE,
		"--runtime-interface-emulator-address", api.Addr(),
		"--runtime-api-address", runtimeAPI.Addr(),
		fn.Bootstrap)
	base := fn.Environ
	if base == nil {
		base = os.Environ()
	}
	cmd.Env = append(append(slices.Clip(base), fn.Env...),
		"AWS_LAMBDA_FUNCTION_NAME="+fn.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(timeout),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"LOG_LEVEL=error", // the emulator's own log level: a stop is not a warning
	)
	cmd.Stdout, cmd.Stderr = fn.Stdout, fn.Stdout
	proc, err := procs.Start(cmd, held...)
	if err != nil {
		return nil, fmt.Errorf("start the emulator for %s: %w", fn.Name, err)
	}
	err = proc.WaitReady(ctx, func(ctx context.Context) bool {
		return procs.Listening(ctx, proc.Pid(), api.Number, runtimeAPI.Number)
	})
	if err != nil {
		proc.Stop()
		if strings.Contains(proc.Output(), "address already in use") {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return nil, fmt.Errorf("start the emulator for %s: %w", fn.Name, err)
	}
	return &Instance{fn: fn, addr: api.Addr(), proc: proc, http: &http.Client{}}, nil
}

// Invoke sends one event and returns the function's response payload. A
// function error (a handler that returned an error or panicked) is an
// *FunctionError.
func (in *Instance) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	url := "http://" + in.addr + "/2015-03-31/functions/function/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := in.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", in.fn.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: read response: %w", in.fn.Name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("invoke %s: emulator answered %d: %s", in.fn.Name, resp.StatusCode, body)
	}
	var fe FunctionError
	if json.Unmarshal(body, &fe) == nil && fe.Type != "" {
		return nil, &fe
	}
	return body, nil
}

// FunctionError is the error payload of a failed invocation.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *FunctionError) Error() string { return "function error " + e.Type + ": " + e.Message }

// InvokeJSON marshals req, invokes, and unmarshals the response into Resp.
func InvokeJSON[Resp, Req any](ctx context.Context, in *Instance, req Req) (Resp, error) {
	var resp Resp
	payload, err := json.Marshal(req)
	if err != nil {
		return resp, fmt.Errorf("encode event: %w", err)
	}
	out, err := in.Invoke(ctx, payload)
	if err != nil {
		return resp, err
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return resp, fmt.Errorf("decode %s response %q: %w", in.fn.Name, out, err)
	}
	return resp, nil
}

// Stop kills the emulator and its function.
//
// The emulator is asked first (SIGTERM), so that it stops its function
// before it goes; killed at once, it would leave the bootstrap polling a
// runtime API that is gone ("failed to get the next invoke"). The process
// group is killed after stopGrace either way.
func (in *Instance) Stop() error { return in.proc.Terminate(stopGrace) }

// stopGrace bounds the wait for the emulator to stop its function.
const stopGrace = 5 * time.Second

// Endpoint is the emulator's base URL, where it serves the Lambda Invoke
// API for the function named "function":
// POST {Endpoint}/2015-03-31/functions/function/invocations.
func (in *Instance) Endpoint() string { return "http://" + in.addr }

// Pid is the emulator's process id; the function's bootstrap, once
// started, is its child.
func (in *Instance) Pid() int { return in.proc.Pid() }
