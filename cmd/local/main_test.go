package main_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/emulator"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// buildLocal compiles this command once per test.
func buildLocal(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "local")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// server is one run of the local mode as a child process.
type server struct {
	cmd  *exec.Cmd
	addr string // host:port it serves on

	mu  sync.Mutex
	out strings.Builder // its standard error
	eof chan struct{}   // closed once its standard error is read to the end
}

// stderr waits until the server's standard error is closed (it has
// exited) and returns it.
func (s *server) stderr() string {
	<-s.eof
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

func start(t *testing.T, bin string, env []string) *server {
	t.Helper()
	// The server picks its own port and says which in its "serving" line.
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), env...), "ADDR=127.0.0.1:0", "LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, eof: make(chan struct{})}
	t.Cleanup(func() { s.kill() })
	addr := make(chan string, 1)
	go func() {
		defer close(s.eof)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.out.WriteString(line + "\n")
			s.mu.Unlock()
			if testing.Verbose() {
				t.Log("local:", line)
			}
			if _, rest, ok := strings.Cut(line, "msg=serving addr="); ok {
				addr <- strings.Fields(rest)[0]
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("the local mode exited before serving")
		}
		s.addr = a
	case <-time.After(2 * time.Minute):
		t.Fatal("the local mode did not start serving")
	}
	return s
}

func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	}
}

// TestKillAndRestart kills the local mode with SIGKILL while it is taking
// tasks and working on them, restarts it on the same data, and checks that
// every task it accepted finishes with the right answer. For the embedded
// backend the data is the bolt file; for the aws backend, the queue and table
// in the emulator.
func TestKillAndRestart(t *testing.T) {
	t.Parallel()
	bin := buildLocal(t)
	for _, backend := range []string{"bolt", "aws"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := []string{"BACKEND=" + backend, "VISIBILITY_TIMEOUT=2s", "WORKERS=2"}
			switch backend {
			case "bolt":
				env = append(env, "DATA_DIR="+t.TempDir())
			case "aws":
				cfg, res := awstest.ProvisionedWith(t, provision.Settings{VisibilityTimeout: 2 * time.Second}, awstest.UniqueNames())
				creds, err := cfg.Credentials.Retrieve(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				env = append(env, "QUEUE_URL="+res.QueueURL, "TABLE_NAME="+res.TableName,
					"AWS_ENDPOINT_URL="+aws.ToString(cfg.BaseEndpoint), "AWS_REGION="+cfg.Region,
					"AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey)
			}
			first := start(t, bin, env)
			accepted := load(t, first.addr, 200)
			first.kill()
			t.Logf("%d tasks accepted before SIGKILL", len(accepted))
			if len(accepted) == 0 {
				t.Fatal("no task was accepted before the kill")
			}

			second := start(t, bin, env)
			restarted := 0
			for id, n := range accepted {
				s := waitFinal(t, second.addr, id)
				b, _ := new(big.Int).SetString(n, 10)
				if s.Status != task.StatusSuccess || s.Result == nil || string(s.Result.Number) != n || s.Result.IsPrime != b.ProbablyPrime(20) {
					t.Errorf("task %s (%s) = %s %+v; want SUCCESS with the right answer", id, n, s.Status, s.Result)
				}
				if s.Attempts > 1 {
					restarted++
				}
			}
			t.Logf("%d tasks were started again after the restart", restarted)
		})
	}
}

// load submits from several clients until about want tasks were accepted, and
// returns the accepted tasks.
func load(t *testing.T, addr string, want int) map[string]string {
	t.Helper()
	var mu sync.Mutex
	accepted := map[string]string{}
	enough := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted) >= want
	}
	giveUp := time.Now().Add(2 * time.Minute) // bounds a failing test only
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !enough() && time.Now().Before(giveUp); i++ {
				// Numbers of ~40 digits: a real check, not instant.
				n := fmt.Sprintf("%d%019d", 1000003+w, i*7919+1)
				resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(`{"number": "`+n+`"}`))
				if err != nil {
					mu.Lock()
					if len(accepted) == 0 {
						t.Logf("submit failed before any was accepted: %v", err)
					}
					mu.Unlock()
					return // the server is being killed
				}
				var r api.SubmitResponse
				err = json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
				if err == nil && resp.StatusCode == http.StatusAccepted {
					mu.Lock()
					accepted[r.TaskID] = strings.TrimLeft(n, "0")
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return accepted
}

// waitFinal polls the task until it is final, asking again on a 503 (the
// store missed the status function's budget); any other answer but 200
// means an accepted task was lost.
func waitFinal(t *testing.T, addr, id string) api.StatusResponse {
	t.Helper()
	var s api.StatusResponse
	testkit.Eventually(t, 2*time.Minute, func() bool {
		resp, err := http.Get("http://" + addr + "/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			return false
		default:
			t.Fatalf("GET /%s = %d; want 200: an accepted task was lost", id, resp.StatusCode)
		}
		s = api.StatusResponse{}
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatalf("GET /%s: %v", id, err)
		}
		return s.Status.Final()
	}, "task %s finished after the restart", id)
	return s
}

// TestGracefulShutdown: SIGTERM stops the server cleanly (exit 0), after
// the work it had accepted is recorded, and the data survives for the next
// start.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	bin := buildLocal(t)
	env := []string{"BACKEND=bolt", "DATA_DIR=" + t.TempDir()}
	s := start(t, bin, env)
	accepted := load(t, s.addr, 50)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM the server exited with %v; want 0", err)
	}
	again := start(t, bin, env)
	for id := range accepted {
		if st := waitFinal(t, again.addr, id); st.Status != task.StatusSuccess {
			t.Errorf("task %s = %s; want SUCCESS", id, st.Status)
		}
	}
}

// TestStopsWhenItsMotoDies: with BACKEND=aws and nothing else set, the
// local mode starts moto, which holds the queues and the table in memory.
// When moto dies, they are gone: the local mode stops, exit 1, saying so,
// rather than answering 503 "temporarily unavailable" for ever.
func TestStopsWhenItsMotoDies(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath(emulator.MotoCommand); err != nil {
		if awstest.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	bin := buildLocal(t)
	// AWS_ENDPOINT_URL empty: the local mode starts its own moto.
	s := start(t, bin, []string{"BACKEND=aws", "AWS_ENDPOINT_URL=", "QUEUE_URL=", "TABLE_NAME="})
	moto := children(t, s.cmd.Process.Pid)
	if len(moto) != 1 {
		t.Fatalf("the local mode has children %v; want one, its moto", moto)
	}
	if err := syscall.Kill(moto[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.eof: // it exited: its standard error is closed
	case <-time.After(2 * time.Minute): // bounds a failing test only
		t.Fatal("the local mode still runs two minutes after its moto died")
	}
	var exit *exec.ExitError
	if err := s.cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("after its moto died the local mode exited with %v; want exit status 1", err)
	}
	if out := s.stderr(); !strings.Contains(out, "local: moto") || !strings.Contains(out, "exited (signal: killed)") {
		t.Errorf("the local mode's last words do not say that its moto exited:\n%s", out)
	}
}

// children lists the process ids of pid's children (Linux: /proc).
func children(t *testing.T, pid int) []int {
	t.Helper()
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil || len(files) == 0 {
		t.Skipf("cannot list the children of %d (/proc/PID/task/*/children): %v", pid, err)
	}
	var pids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread has exited
		}
		for _, field := range strings.Fields(string(b)) {
			n, err := strconv.Atoi(field)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			pids = append(pids, n)
		}
	}
	return pids
}
