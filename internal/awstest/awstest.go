// Package awstest gives tests in any package an AWS emulator with real
// resources, for the adapters' conformance suites and end-to-end tests.
//
// How a test finds the emulator:
//
//  1. If AWS_ENDPOINT_URL is set (or both AWS_ENDPOINT_URL_SQS and
//     AWS_ENDPOINT_URL_DYNAMODB), the SDK talks to that endpoint: LocalStack,
//     DynamoDB Local, or a moto_server started by hand. No code changes.
//  2. Otherwise, if moto_server is on PATH, one moto is started per test
//     binary, on first use, and stopped when the binary exits; a package
//     that uses it calls Main from its TestMain.
//  3. Otherwise the test is skipped, unless EMULATOR_REQUIRED=1, when it
//     fails: CI sets it so that a missing emulator can never pass as a
//     skipped suite.
//
// Each call of Provisioned creates resources with unique names and deletes
// them when the test ends, so that parallel tests, and test runs that share
// an emulator, never see each other's messages or tasks.
package awstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/asyncprime/asyncprime/internal/emulator"
	"github.com/asyncprime/asyncprime/internal/provision"
)

// EnvRequired is the variable that turns a missing emulator from a skip
// into a failure.
const EnvRequired = "EMULATOR_REQUIRED"

var shared struct {
	once sync.Once
	moto *emulator.Moto
	err  error
}

// Main runs the tests and then stops the moto that Config may have started.
// Call it from TestMain in every package that uses this one:
//
//	func TestMain(m *testing.M) { awstest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared.moto != nil {
		if err := shared.moto.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "awstest:", err)
		}
	}
	os.Exit(code)
}

// External reports whether the environment names an emulator endpoint.
func External() bool {
	return os.Getenv("AWS_ENDPOINT_URL") != "" ||
		os.Getenv("AWS_ENDPOINT_URL_SQS") != "" && os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != ""
}

// Required reports whether EMULATOR_REQUIRED is set to a true value.
func Required() bool {
	v, _ := strconv.ParseBool(os.Getenv(EnvRequired))
	return v
}

// Config returns an SDK configuration for the emulator, starting it if
// need be, or skips or fails t as the package documentation says.
func Config(t testing.TB) aws.Config {
	t.Helper()
	endpoint := ""
	if !External() {
		shared.once.Do(func() {
			shared.moto, shared.err = emulator.StartMoto(context.Background())
		})
		switch {
		case errors.Is(shared.err, emulator.ErrNotInstalled) && !Required():
			t.Skipf("no emulator: set AWS_ENDPOINT_URL or install moto_server; `make test` requires it (%v)", shared.err)
		case errors.Is(shared.err, emulator.ErrNotInstalled):
			t.Fatalf("no emulator, and %s is set: set AWS_ENDPOINT_URL or install moto_server: %v", EnvRequired, shared.err)
		case shared.err != nil:
			t.Fatalf("emulator: %v", shared.err)
		}
		endpoint = shared.moto.Endpoint
	}
	cfg, err := emulator.Config(t.Context(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// UniqueNames returns resource names that no other call returns:
// asyncprime-test-<random>-tasks, -tasks-dlq and the table -tasks.
func UniqueNames() provision.Names {
	var b [6]byte
	rand.Read(b[:])
	prefix := "asyncprime-test-" + hex.EncodeToString(b[:])
	return provision.Names{Queue: prefix + "-tasks", DeadLetterQueue: prefix + "-tasks-dlq", Table: prefix + "-tasks"}
}

// Provisioned creates a tasks queue, its dead-letter queue and a table with
// the default settings and unique names, and deletes them when t ends.
func Provisioned(t testing.TB) (aws.Config, provision.Resources) {
	t.Helper()
	return ProvisionedWith(t, provision.Settings{}, UniqueNames())
}

// ProvisionedWith creates the named resources with settings s, and deletes
// them when t ends. Leave a name empty to skip a resource; start from
// UniqueNames.
func ProvisionedWith(t testing.TB, s provision.Settings, names provision.Names) (aws.Config, provision.Resources) {
	t.Helper()
	cfg := Config(t)
	res, err := s.Provision(t.Context(), cfg, names)
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := provision.Delete(ctx, cfg, res); err != nil {
			t.Errorf("clean up: %v", err)
		}
	})
	return cfg, res
}
