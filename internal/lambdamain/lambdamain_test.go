package lambdamain_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/lambdamain"
)

// mustNotBuild is a Build that fails the test: a function whose
// configuration is wrong must stop before it builds a client.
func mustNotBuild[E any](t *testing.T) lambdamain.Build[E] {
	return func(E, aws.Config, *slog.Logger) any {
		t.Error("build called; want a configuration error first")
		return nil
	}
}

// TestMissingConfigurationNamesTheVariable: each function stops at start,
// before any AWS call, with an error that names every variable missing or
// wrong.
func TestMissingConfigurationNamesTheVariable(t *testing.T) {
	t.Setenv("TABLE_NAME", "")
	t.Setenv("QUEUE_URL", "")
	t.Setenv("MAX_RECEIVE_COUNT", "many")
	t.Setenv("DEAD_LETTER_QUEUE_URL", "")
	t.Setenv("BIG_DEAD_LETTER_QUEUE_URL", "")
	tests := []struct {
		name    string
		handler func() (any, error)
		want    []string
	}{
		{"submit", func() (any, error) { return lambdamain.Handler(mustNotBuild[config.Submit](t)) }, []string{"TABLE_NAME", "QUEUE_URL"}},
		{"worker", func() (any, error) { return lambdamain.Handler(mustNotBuild[config.Worker](t)) }, []string{"TABLE_NAME", "MAX_RECEIVE_COUNT"}},
		{"status", func() (any, error) { return lambdamain.Handler(mustNotBuild[config.Status](t)) }, []string{"TABLE_NAME"}},
		{"deadletter", func() (any, error) { return lambdamain.Handler(mustNotBuild[config.DeadLetter](t)) },
			[]string{"TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "BIG_DEAD_LETTER_QUEUE_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := tt.handler()
			if err == nil || h != nil {
				t.Fatalf("Handler() = %v, %v; want an error naming %v", h, err, tt.want)
			}
			for _, v := range tt.want {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("Handler() error %q; want it to name %s", err, v)
				}
			}
		})
	}
}

// TestHandler: with its configuration set, a function's handler is what
// its Build makes from that environment and the AWS configuration.
func TestHandler(t *testing.T) {
	t.Setenv("TABLE_NAME", "tasks")
	t.Setenv("RESULT_RETENTION", "2h")
	t.Setenv("AWS_REGION", "eu-west-3")
	var got config.Status
	var region string
	h, err := lambdamain.Handler(func(env config.Status, cfg aws.Config, log *slog.Logger) any {
		got, region = env, cfg.Region
		if log == nil {
			t.Error("no logger")
		}
		return "handler"
	})
	if err != nil {
		t.Fatal(err)
	}
	if h != "handler" || got.TableName != "tasks" || got.Retention.Hours() != 2 || region != "eu-west-3" {
		t.Errorf("Handler() = %v with env %+v, region %q; want handler with tasks, 2h, eu-west-3", h, got, region)
	}
}
