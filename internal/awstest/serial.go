package awstest

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/asyncprime/asyncprime/internal/dynamo"
)

// SerialWrites wraps a DynamoDB client so that its conditional writes
// (PutItem, UpdateItem, TransactWriteItems) run one at a time. moto (5.2) evaluates a write's
// condition and applies it without a lock, so two concurrent conditional
// writes to one item can both succeed, where DynamoDB lets exactly one
// through. One at a time, a test still checks that every write the code
// makes is conditional, which is the code's part.
func SerialWrites(c dynamo.Client) dynamo.Client { return &serialWrites{Client: c} }

type serialWrites struct {
	dynamo.Client
	mu sync.Mutex
}

func (c *serialWrites) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Client.PutItem(ctx, in, optFns...)
}

func (c *serialWrites) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Client.UpdateItem(ctx, in, optFns...)
}

func (c *serialWrites) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Client.TransactWriteItems(ctx, in, optFns...)
}
