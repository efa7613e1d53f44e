package client_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/asyncprime/asyncprime/internal/client"
)

type describeFunc func(*cloudformation.DescribeStacksInput) (*cloudformation.DescribeStacksOutput, error)

func (f describeFunc) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	return f(in)
}

func outputs(kv ...string) *cloudformation.DescribeStacksOutput {
	var os []types.Output
	for i := 0; i < len(kv); i += 2 {
		os = append(os, types.Output{OutputKey: aws.String(kv[i]), OutputValue: aws.String(kv[i+1])})
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []types.Stack{{Outputs: os}}}
}

func TestDescribeStack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		out     *cloudformation.DescribeStacksOutput
		want    client.Stack
		wantErr string
	}{
		{
			name: "asyncprime stack",
			out:  outputs("ApiUrl", "https://x.execute-api.eu-west-1.amazonaws.com", "QueueUrl", "https://sqs/q", "DeadLetterQueueUrl", "https://sqs/dlq", "BigQueueUrl", "https://sqs/big", "TableName", "t"),
			want: client.Stack{Name: "asyncprime", APIURL: "https://x.execute-api.eu-west-1.amazonaws.com", QueueURL: "https://sqs/q", DeadLetterQueueURL: "https://sqs/dlq", BigQueueURL: "https://sqs/big", TableName: "t"},
		},
		{name: "another stack", out: outputs("BucketName", "b"), wantErr: "is it an asyncprime stack?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := client.DescribeStack(t.Context(), describeFunc(func(in *cloudformation.DescribeStacksInput) (*cloudformation.DescribeStacksOutput, error) {
				if aws.ToString(in.StackName) != "asyncprime" {
					t.Errorf("StackName = %q; want asyncprime", aws.ToString(in.StackName))
				}
				return tt.out, nil
			}), "asyncprime")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("DescribeStack = %v; want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("DescribeStack = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
