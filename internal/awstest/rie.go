package awstest

import (
	"cmp"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/asyncprime/asyncprime/internal/rie"
)

// Unavailable skips t for a tool that err says is missing (an emulator,
// the RIE, a browser), or fails it when EMULATOR_REQUIRED is set, so that
// CI never passes a suite by skipping it.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%v (%s is set)", err, EnvRequired)
	}
	t.Skip(err)
}

// RIE returns the Lambda Runtime Interface Emulator found from moduleRoot
// (rie.FindRIE), or skips or fails t as Unavailable does.
func RIE(t testing.TB, moduleRoot string) string {
	t.Helper()
	p, err := rie.FindRIE(moduleRoot)
	if err != nil {
		Unavailable(t, err)
	}
	return p
}

// Endpoint is the URL at which cfg reaches the emulator, for a function
// started with it: the configuration's endpoint, or AWS_ENDPOINT_URL.
func Endpoint(cfg aws.Config) string {
	return cmp.Or(aws.ToString(cfg.BaseEndpoint), os.Getenv("AWS_ENDPOINT_URL"))
}
