package emulator_test

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/emulator"
)

func TestStartMotoStop(t *testing.T) {
	t.Parallel()
	m, err := emulator.StartMoto(t.Context())
	if errors.Is(err, emulator.ErrNotInstalled) {
		if required, _ := strconv.ParseBool(os.Getenv("EMULATOR_REQUIRED")); required {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("StartMoto = %v; want nil", err)
	}
	t.Cleanup(func() { m.Stop() })

	cfg, err := emulator.Config(t.Context(), m.Endpoint)
	if err != nil {
		t.Fatalf("Config = %v; want nil", err)
	}
	if _, err := sqs.NewFromConfig(cfg).ListQueues(t.Context(), &sqs.ListQueuesInput{}); err != nil {
		t.Errorf("ListQueues = %v; want nil", err)
	}

	if err := m.Stop(); err != nil {
		t.Errorf("Stop = %v; want nil", err)
	}
	if err := m.Stop(); err != nil {
		t.Errorf("second Stop = %v; want nil", err)
	}
	client := &http.Client{Timeout: time.Second}
	if resp, err := client.Get(m.Endpoint + "/moto-api/"); err == nil {
		resp.Body.Close()
		t.Errorf("moto still answers at %s after Stop", m.Endpoint)
	}
}
