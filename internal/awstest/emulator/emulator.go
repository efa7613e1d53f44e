// Package emulator runs an AWS emulator for the tests and the local mode:
// StartMoto starts moto_server as a child process, and Config builds an SDK
// configuration for an emulator's endpoint (moto, LocalStack, DynamoDB
// Local).
//
// It lives apart from internal/awstest, which holds the test helpers, so
// that the local runner can use it without linking package testing.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/asyncprime/asyncprime/internal/awscfg"
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
	// StartTimeout bounds how long StartMoto waits for moto to answer.
	StartTimeout = 20 * time.Second
)

// ErrNotInstalled means MotoCommand is not on PATH.
var ErrNotInstalled = errors.New(MotoCommand + " is not installed (pip install 'moto[server]')")

// Moto is a running moto_server.
type Moto struct {
	// Endpoint is its URL, such as http://127.0.0.1:41234.
	Endpoint string

	cmd      *exec.Cmd
	stderr   *tail
	done     chan struct{} // closed when the process has exited
	waitErr  error         // valid once done is closed
	stopOnce sync.Once
	stopErr  error
}

// StartMoto starts moto_server on a free port of 127.0.0.1, in its own
// process group, and waits until it answers HTTP, for at most StartTimeout
// or until ctx ends. ctx bounds the start only; the server runs until Stop.
// On Linux the server is also killed if this process dies without calling
// Stop.
func StartMoto(ctx context.Context) (*Moto, error) {
	path, err := exec.LookPath(MotoCommand)
	if err != nil {
		return nil, fmt.Errorf("start moto: %w: %w", ErrNotInstalled, err)
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	// The free port may be taken between the probe and moto's bind; try
	// again with another one.
	for attempt := 1; ; attempt++ {
		m, err := startMoto(ctx, path)
		if err == nil {
			return m, nil
		}
		if attempt == 3 || ctx.Err() != nil {
			return nil, err
		}
	}
}

func startMoto(ctx context.Context, path string) (*Moto, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	m := &Moto{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		stderr:   &tail{max: 4096},
		done:     make(chan struct{}),
	}
	m.cmd = exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	m.cmd.Stdout = m.stderr
	m.cmd.Stderr = m.stderr
	m.cmd.SysProcAttr = sysProcAttr()
	started := make(chan error, 1)
	go func() {
		// Linux sends the parent-death signal when the thread that started
		// the child exits, so keep that thread for as long as the child.
		runtime.LockOSThread()
		if err := m.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		m.waitErr = m.cmd.Wait()
		close(m.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	if err := m.waitReady(ctx); err != nil {
		m.Stop()
		return nil, fmt.Errorf("start moto on port %d: %w", port, err)
	}
	return m, nil
}

// waitReady polls the server until it answers HTTP.
func (m *Moto) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.Endpoint+"/moto-api/", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-m.done:
			return fmt.Errorf("moto_server exited (%v) before answering; its output ends:\n%s", m.waitErr, m.stderr)
		case <-ctx.Done():
			return fmt.Errorf("moto_server did not answer: %w; its output ends:\n%s", ctx.Err(), m.stderr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop kills the server and its process group and waits for it to exit.
// It may be called more than once.
func (m *Moto) Stop() error {
	m.stopOnce.Do(func() {
		select {
		case <-m.done:
			m.stopErr = fmt.Errorf("moto_server had exited: %v", m.waitErr)
			return
		default:
		}
		if err := kill(m.cmd.Process); err != nil {
			m.stopErr = fmt.Errorf("stop moto_server: %w", err)
		}
		<-m.done
	})
	return m.stopErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

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

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
