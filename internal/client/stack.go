package client

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// Describer is the CloudFormation call Stack needs; *cloudformation.Client
// implements it.
type Describer interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// Stack is what a deployed stack's outputs name.
type Stack struct {
	Name               string
	APIURL             string // ApiUrl
	QueueURL           string // QueueUrl
	DeadLetterQueueURL string // DeadLetterQueueUrl
	BigQueueURL        string // BigQueueUrl: the queue of numbers beyond 64 bits
	TableName          string // TableName
}

// DescribeStack reads a deployed stack's outputs.
func DescribeStack(ctx context.Context, cfn Describer, name string) (Stack, error) {
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		return Stack{}, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) != 1 {
		return Stack{}, fmt.Errorf("describe stack %s: %d stacks answered; want 1", name, len(out.Stacks))
	}
	s := Stack{Name: name}
	for _, o := range out.Stacks[0].Outputs {
		switch aws.ToString(o.OutputKey) {
		case "ApiUrl":
			s.APIURL = aws.ToString(o.OutputValue)
		case "QueueUrl":
			s.QueueURL = aws.ToString(o.OutputValue)
		case "DeadLetterQueueUrl":
			s.DeadLetterQueueURL = aws.ToString(o.OutputValue)
		case "BigQueueUrl":
			s.BigQueueURL = aws.ToString(o.OutputValue)
		case "TableName":
			s.TableName = aws.ToString(o.OutputValue)
		}
	}
	if s.APIURL == "" || s.QueueURL == "" {
		return s, fmt.Errorf("stack %s has no ApiUrl or QueueUrl output: is it an asyncprime stack?", name)
	}
	return s, nil
}
