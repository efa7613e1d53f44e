package samlocal_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/procs"
	"github.com/asyncprime/asyncprime/internal/samlocal"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

const script = moduleRoot + "/scripts/sam-local.sh"

// systemPath is a PATH with only what the script's checks use: bash,
// dirname and the tools named, and so no sam, docker or podman.
func systemPath(t *testing.T, tools ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range append([]string{"bash", "dirname"}, tools...) {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skip(err)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestScriptSaysWhatIsMissing: without sam, or without a container engine,
// make sam-local stops at once and says which, and how to get it.
func TestScriptSaysWhatIsMissing(t *testing.T) {
	t.Parallel()
	sys := systemPath(t)
	withSam := testkit.FakeBin(t, map[string]string{"sam": "exit 0\n"})
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"no sam", sys, []string{"AWS SAM CLI ('sam') is not installed", "install-sam-cli", "make invoke"}},
		{"no container engine", withSam + ":" + sys, []string{"no container engine", "Install Docker", "Podman"}},
		{"podman without DOCKER_HOST", testkit.FakeBin(t, map[string]string{"podman": "exit 0\n"}) + ":" + withSam + ":" + sys, []string{"DOCKER_HOST", "podman.socket"}},
		{"docker without its daemon", testkit.FakeBin(t, map[string]string{"docker": "exit 1\n"}) + ":" + withSam + ":" + sys, []string{"daemon does not answer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bash, err := exec.LookPath("bash")
			if err != nil {
				t.Skip(err)
			}
			cmd := exec.CommandContext(t.Context(), bash, script)
			cmd.Env = []string{"PATH=" + tt.path, "HOME=" + t.TempDir()}
			out, err := cmd.CombinedOutput()
			if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 1 {
				t.Fatalf("exit: %v; want status 1\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output %q; want it to say %q", out, w)
				}
			}
		})
	}
}

// TestScriptChoosesArchitecture: the functions are arm64, so on a Linux
// host whose Docker runs x86_64 without QEMU registered for arm64
// (binfmt_misc), make sam-local builds and runs them as x86_64 and says so
// in one line, before it starts anything; with the registration it keeps
// arm64 and says nothing. LAMBDA_ARCH decides when set: arm64 there gets
// the warning of how to register QEMU, any other value but x86_64 stops
// the script. (It then stops for want of moto_server; TestScriptRunsAndStops
// sees what it passes to sam.)
func TestScriptChoosesArchitecture(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the check is for Docker Engine on Linux")
	}
	sys := systemPath(t, "uname", "mkdir", "seq")
	fakes := testkit.FakeBin(t, map[string]string{
		"sam":    "exit 0\n",
		"docker": "[[ $1 == info ]] || exit 1\n[[ ${2:-} == --format ]] && echo x86_64\nexit 0\n",
	})
	registered := t.TempDir()
	if err := os.WriteFile(filepath.Join(registered, "qemu-aarch64"), []byte("enabled\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const (
		switched = "building and running the functions as x86_64"
		warning  = "tonistiigi/binfmt --install arm64"
		refused  = "LAMBDA_ARCH is 'amd64'; want arm64 or x86_64"
		noMoto   = "moto_server is not installed"
	)
	tests := []struct {
		name   string
		binfmt string
		arch   string // LAMBDA_ARCH; "" unset
		says   []string
	}{
		{"no arm64 registration", t.TempDir(), "", []string{switched, noMoto}},
		{"arm64 registered", registered, "", []string{noMoto}},
		{"arm64 forced without registration", t.TempDir(), "arm64", []string{warning, noMoto}},
		{"x86_64 forced", registered, "x86_64", []string{noMoto}},
		{"unknown architecture", t.TempDir(), "amd64", []string{refused}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), "bash", script)
			cmd.Env = []string{"PATH=" + fakes + ":" + sys, "HOME=" + t.TempDir(),
				"SAM_LOCAL_DIR=" + t.TempDir(), "SAM_LOCAL_BINFMT_DIR=" + tt.binfmt}
			if tt.arch != "" {
				cmd.Env = append(cmd.Env, "LAMBDA_ARCH="+tt.arch)
			}
			out, err := cmd.CombinedOutput()
			if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 1 {
				t.Fatalf("exit: %v; want status 1\n%s", err, out)
			}
			for _, s := range []string{switched, warning, refused, noMoto} {
				want := slices.Contains(tt.says, s)
				if got := strings.Contains(string(out), s); got != want {
					t.Errorf("output %q; says %q: %v, want %v", out, s, got, want)
				}
			}
		})
	}
}

// TestScriptRunsAndStops runs make sam-local's script with a fake sam and
// a fake docker on x86_64 without QEMU for arm64: it starts moto, builds
// for x86_64 (LAMBDA_ARCH for sam.mk, the Architecture parameter for the
// template), has the trigger create the resources and write the env file,
// starts start-lambda and start-api with that file, the same
// architecture and the region the trigger created the resources in (from
// AWS_DEFAULT_REGION here), and on Ctrl-C (SIGINT) stops everything it
// started.
func TestScriptRunsAndStops(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("moto_server"); err != nil {
		awstest.Unavailable(t, err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip(err)
	}
	motoBin, _ := exec.LookPath("moto_server")
	record := t.TempDir()
	fakes := testkit.FakeBin(t, map[string]string{
		// Each call writes its pid, the LAMBDA_ARCH it was given and its
		// arguments (whole, then renamed, so that the test never reads a
		// half-written record); `sam local ...` then runs until
		// interrupted, as the real one does.
		"sam": fmt.Sprintf(`printf '%%s\n' "$$" "LAMBDA_ARCH=${LAMBDA_ARCH:-}" "$@" > %[1]q/.partial-$$ && mv %[1]q/.partial-$$ %[1]q/sam-$1-$$
[[ $1 == local ]] && exec sleep 600
exit 0
`, record),
		"docker": "[[ $1 == info ]] || exit 1\n[[ ${2:-} == --format ]] && echo x86_64\nexit 0\n",
	})
	motoPort, lambdaPort := freePort(t), freePort(t)
	samDir := t.TempDir() // logs, the env file and the trigger: this test's own
	path := strings.Join([]string{fakes, filepath.Dir(goBin), filepath.Dir(motoBin), os.Getenv("PATH")}, ":")
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(),
		"PATH="+path,
		"SAM_LOCAL_BIND=127.0.0.1",
		"SAM_LOCAL_DIR="+samDir,
		"MOTO_PORT="+strconv.Itoa(motoPort),
		"LAMBDA_PORT="+strconv.Itoa(lambdaPort),
		"SAM_CONTAINER_ENDPOINT=http://host.docker.internal:"+strconv.Itoa(motoPort),
		"SAM_LOCAL_BINFMT_DIR="+t.TempDir(), // no qemu-aarch64
		"AWS_DEFAULT_REGION=eu-west-1",      // for the trigger and the containers alike
	)
	cmd.Env = slicesDeleteEnv(cmd.Env, "AWS_REGION")
	cmd.Env = slicesDeleteEnv(cmd.Env, "AWS_ENDPOINT_URL") // the script starts moto
	cmd.Env = slicesDeleteEnv(cmd.Env, "LAMBDA_ARCH")      // the script chooses
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
	})

	// Both sam local commands start once the env file is there.
	var samCalls []string
	testkit.Eventually(t, 3*time.Minute, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("the script exited early: %v\n%s", err, out.String())
		default:
		}
		samCalls, _ = filepath.Glob(record + "/sam-local-*")
		return len(samCalls) == 2
	}, "sam local started twice; output:\n%s", &out)
	envFile := samDir + "/env.json"
	var file samlocal.EnvFile
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	wantQueue := fmt.Sprintf("http://host.docker.internal:%d/123456789012/asyncprime-tasks", motoPort)
	if got := file["SubmitFunction"]["QUEUE_URL"]; got != wantQueue {
		t.Errorf("env file QUEUE_URL = %q; want %q", got, wantQueue)
	}
	// samCall returns a recorded call's pid, environment line and arguments.
	samCall := func(path string) (pid int, env, args string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		pid, _ = strconv.Atoi(lines[0])
		return pid, lines[1], strings.Join(lines[2:], " ")
	}
	builds, _ := filepath.Glob(record + "/sam-build-*")
	if len(builds) != 1 {
		t.Fatalf("sam build ran %d times; want once", len(builds))
	}
	if _, env, args := samCall(builds[0]); env != "LAMBDA_ARCH=x86_64" || args != "build --parameter-overrides Architecture=x86_64" {
		t.Errorf("sam %s with %s; want sam build --parameter-overrides Architecture=x86_64 with LAMBDA_ARCH=x86_64", args, env)
	}
	var samPids []int
	for _, call := range samCalls {
		pid, _, args := samCall(call)
		samPids = append(samPids, pid)
		for _, want := range []string{"--env-vars " + envFile, "--parameter-overrides ApiFunctionTimeout=29 WorkerTimeout=60 Architecture=x86_64", "--add-host host.docker.internal:host-gateway", "--region eu-west-1"} {
			if !strings.Contains(args, want) {
				t.Errorf("sam %s; want %q in its arguments", args, want)
			}
		}
	}
	// The trigger created the queue on moto, in the containers' region.
	motoURL := "http://127.0.0.1:" + strconv.Itoa(motoPort)
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("eu-west-1"), config.WithBaseEndpoint(motoURL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(cfg).GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String("asyncprime-tasks")})
	if err != nil {
		t.Fatalf("the trigger did not create the queue: %v", err)
	}
	if !strings.HasSuffix(aws.ToString(q.QueueUrl), "/asyncprime-tasks") {
		t.Errorf("queue URL %s", aws.ToString(q.QueueUrl))
	}

	// Ctrl-C.
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatalf("the script did not stop on SIGINT; output:\n%s", out.String())
	}
	for _, pid := range samPids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("sam (pid %d) still runs after Ctrl-C", pid)
		}
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(motoPort), time.Second); err == nil {
		c.Close()
		t.Errorf("moto still listens after Ctrl-C")
	}
}

// freePort reserves a loopback port for the script's children until the
// test ends (procs.ReservePort: outside the ephemeral range, locked against
// other tests), so that no other program takes it in between.
func freePort(t *testing.T) int {
	t.Helper()
	p, err := procs.ReservePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p.Number
}

// slicesDeleteEnv drops every KEY= entry of env.
func slicesDeleteEnv(env []string, key string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}
