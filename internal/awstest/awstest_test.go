package awstest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestProvisioned(t *testing.T) {
	t.Parallel()
	cfg, res := awstest.Provisioned(t)
	if _, err := sqs.NewFromConfig(cfg).SendMessage(t.Context(), &sqs.SendMessageInput{
		QueueUrl: aws.String(res.QueueURL), MessageBody: aws.String("hi"),
	}); err != nil {
		t.Errorf("SendMessage = %v; want nil", err)
	}
	if _, err := dynamodb.NewFromConfig(cfg).DescribeTable(t.Context(), &dynamodb.DescribeTableInput{
		TableName: aws.String(res.TableName),
	}); err != nil {
		t.Errorf("DescribeTable = %v; want nil", err)
	}
	// Resources from another call never collide.
	_, other := awstest.Provisioned(t)
	if other.QueueURL == res.QueueURL || other.TableName == res.TableName {
		t.Errorf("two calls gave %+v and %+v; want distinct resources", res, other)
	}
}

// TestNoEmulator runs TestNeedsEmulator and TestNeedsRIE in a child with
// no emulator and no RIE in reach: each must skip, or fail when
// EMULATOR_REQUIRED=1.
func TestNoEmulator(t *testing.T) {
	t.Parallel()
	if os.Getenv("AWSTEST_CHILD") != "" {
		t.Skip("in the child")
	}
	tests := []struct {
		name     string
		child    string
		required string
		wantFail bool
		wantOut  string
	}{
		{"Skips", "TestNeedsEmulator", "", false, "no emulator: set AWS_ENDPOINT_URL or install moto_server"},
		{"FailsWhenRequired", "TestNeedsEmulator", "1", true, "EMULATOR_REQUIRED is set"},
		{"NoRIESkips", "TestNeedsRIE", "", false, "aws-lambda-rie not found"},
		{"NoRIEFailsWhenRequired", "TestNeedsRIE", "1", true, "aws-lambda-rie not found: run `make tools`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+tt.child+"$", "-test.v")
			cmd.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir(), "AWSTEST_CHILD=1", "EMULATOR_REQUIRED=" + tt.required}
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tt.wantFail {
				t.Errorf("child failed = %v (%v); want %v; output:\n%s", failed, err, tt.wantFail, out)
			}
			if !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("child output does not contain %q:\n%s", tt.wantOut, out)
			}
		})
	}
}

// TestNeedsEmulator is the child of TestNoEmulator.
func TestNeedsEmulator(t *testing.T) {
	if os.Getenv("AWSTEST_CHILD") == "" {
		t.Skip("run by TestNoEmulator")
	}
	awstest.Config(t)
	t.Error("Config returned without an emulator")
}

// TestNeedsRIE is a child of TestNoEmulator.
func TestNeedsRIE(t *testing.T) {
	if os.Getenv("AWSTEST_CHILD") == "" {
		t.Skip("run by TestNoEmulator")
	}
	awstest.RIE(t, t.TempDir())
	t.Error("RIE returned without an emulator")
}

func TestUniqueNames(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		n := awstest.UniqueNames()
		for _, name := range []string{n.Queue, n.DeadLetterQueue, n.Table} {
			if len(name) > 80 {
				t.Errorf("name %q is longer than SQS allows", name)
			}
		}
		if seen[n.Queue] {
			t.Fatalf("name %q returned twice", n.Queue)
		}
		seen[n.Queue] = true
	}
}
