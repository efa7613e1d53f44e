// Package emulator runs an AWS emulator for the tests and the local mode:
// StartMoto starts moto_server as a child process, and Config builds an SDK
// configuration for an emulator's endpoint (moto, LocalStack, DynamoDB
// Local).
//
// `make run-aws`, `make invoke` and the tests (through internal/awstest)
// all use it; it does not link package testing.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/asyncprime/asyncprime/internal/awscfg"
	"github.com/asyncprime/asyncprime/internal/procs"
)

// Defaults for talking to an emulator.
const (
	// Region is used unless AWS_REGION or AWS_DEFAULT_REGION is set.
	Region = "us-east-1"
	// AccessKeyID and SecretAccessKey are the static credentials used
	// unless AWS_ACCESS_KEY_ID or AWS_PROFILE is set. Emulators accept any.
	AccessKeyID     = "test"
	SecretAccessKey = "test"

	// MotoCommand is the program StartMoto runs.
	MotoCommand = "moto_server"
	// StartTimeout bounds how long StartMoto waits for moto to answer. It
	// only bounds a failure: on a loaded machine moto's Python start alone
	// has taken 20-30 s.
	StartTimeout = 2 * time.Minute
)

// ErrNotInstalled means MotoCommand is not on PATH.
var ErrNotInstalled = errors.New(MotoCommand + " is not installed (pip install 'moto[server]')")

// Moto is a running moto_server.
type Moto struct {
	// Endpoint is its URL, such as http://127.0.0.1:41234.
	Endpoint string

	proc *procs.Process
}

// StartMoto starts moto_server on a port of 127.0.0.1, in its own process
// group, and waits until it answers HTTP, for at most StartTimeout or until
// ctx ends. ctx bounds the start only; the server runs until Stop. On Linux
// the server is also killed if this process dies without calling Stop.
//
// The port is never free for another program to take: this process binds
// it, and moto inherits the listening socket (werkzeug's
// WERKZEUG_SERVER_FD, which its reloader uses to hand the socket to the
// server it restarts). So the readiness check can only be answered by this
// moto, and nothing in moto's log is parsed. moto is also given the port
// with -p, so that a werkzeug that ignored the socket would fail with
// "address already in use" rather than serve on another port.
func StartMoto(ctx context.Context) (*Moto, error) {
	path, err := exec.LookPath(MotoCommand)
	if err != nil {
		return nil, fmt.Errorf("start moto: %w: %w", ErrNotInstalled, err)
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	defer ln.Close() // moto has its own copy
	sock, err := ln.File()
	if err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	defer sock.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.ExtraFiles = []*os.File{sock} // descriptor 3 in the child
	cmd.Env = append(os.Environ(), "WERKZEUG_RUN_MAIN=true", "WERKZEUG_SERVER_FD=3")
	proc, err := procs.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	m := &Moto{Endpoint: "http://" + ln.Addr().String(), proc: proc}
	if err := proc.WaitReady(ctx, m.answers); err != nil {
		proc.Stop()
		return nil, fmt.Errorf("start moto: %w", err)
	}
	return m, nil
}

// answers reports whether moto answers HTTP.
func (m *Moto) answers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.Endpoint+"/moto-api/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// Done is closed once the server has exited, by itself or by Stop; Err
// then says how.
func (m *Moto) Done() <-chan struct{} { return m.proc.Done() }

// Err is how the server exited once Done is closed, and nil before.
func (m *Moto) Err() error { return m.proc.Err() }

// Stop kills the server and its process group and waits for it to exit.
// It returns an error if the server had exited by itself. It may be called
// more than once.
func (m *Moto) Stop() error { return m.proc.Stop() }

// Config returns an SDK configuration for an emulator: the default chain
// (environment, shared files) with region Region unless AWS_REGION or
// AWS_DEFAULT_REGION says otherwise, and static test credentials unless
// AWS_ACCESS_KEY_ID or AWS_PROFILE is set. A non-empty endpoint becomes the
// base endpoint of every service; with an empty one the SDK reads
// AWS_ENDPOINT_URL itself. Either way AWS_ENDPOINT_URL_SQS and
// AWS_ENDPOINT_URL_DYNAMODB, if set, win for their service.
func Config(ctx context.Context, endpoint string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region())}
	if endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(endpoint))
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")))
	}
	cfg, err := awscfg.Load(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("emulator: %w", err)
	}
	return cfg, nil
}

func region() string {
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if r := os.Getenv(v); r != "" {
			return r
		}
	}
	return Region
}
