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
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
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
	// RuntimeAPI, if set, is the loopback address (host:port) on which the
	// emulator serves the Lambda Runtime API to the bootstrap; a free port
	// if empty.
	RuntimeAPI string
	// Environ, if not nil, replaces this process's environment as the
	// base of the emulator's: the function then sees exactly Environ, Env
	// and the AWS_LAMBDA_* variables below, as in a container.
	Environ []string
}

// Instance is a running emulator with its function. Like one Lambda
// execution environment, it runs one invocation at a time.
type Instance struct {
	fn   Function
	addr string
	cmd  *exec.Cmd
	mu   sync.Mutex // one invocation at a time
	http *http.Client
	done chan struct{}
}

// Start runs the emulator on free loopback ports and waits until it listens.
// The function itself starts (its init phase) on the first invocation.
func Start(ctx context.Context, fn Function) (*Instance, error) {
	for _, p := range []string{fn.RIE, fn.Bootstrap} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("start %s under the emulator: %w", fn.Name, err)
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runtimeAddr := fn.RuntimeAPI
	if runtimeAddr == "" {
		if runtimeAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	timeout := max(int(fn.Timeout/time.Second), 1)
	cmd := exec.Command(fn.RIE,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", runtimeAddr,
		fn.Bootstrap)
	base := fn.Environ
	if base == nil {
		base = os.Environ()
	}
	cmd.Env = append(append(slices.Clip(base), fn.Env...),
		"AWS_LAMBDA_FUNCTION_NAME="+fn.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(timeout),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"LOG_LEVEL=warn", // the emulator's own log level
	)
	if fn.Stdout != nil {
		cmd.Stdout, cmd.Stderr = fn.Stdout, fn.Stdout
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the emulator for %s: %w", fn.Name, err)
	}
	in := &Instance{fn: fn, addr: addr, cmd: cmd, http: &http.Client{}, done: make(chan struct{})}
	go func() { cmd.Wait(); close(in.done) }()
	if err := in.waitListening(ctx); err != nil {
		in.Stop()
		return nil, err
	}
	return in, nil
}

func (in *Instance) waitListening(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-in.done:
			return fmt.Errorf("the emulator for %s exited at start", in.fn.Name)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", in.addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("the emulator for %s did not listen on %s", in.fn.Name, in.addr)
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
func (in *Instance) Stop() error {
	select {
	case <-in.done:
		return nil
	default:
	}
	err := syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
	<-in.done
	if errors.Is(err, syscall.ESRCH) {
		err = nil
	}
	return err
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Endpoint is the emulator's base URL, where it serves the Lambda Invoke
// API for the function named "function":
// POST {Endpoint}/2015-03-31/functions/function/invocations.
func (in *Instance) Endpoint() string { return "http://" + in.addr }

// Pid is the emulator's process id; the function's bootstrap, once
// started, is its child.
func (in *Instance) Pid() int { return in.cmd.Process.Pid }
