package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/task"
)

// tableClient is the store's Client: every call's ResourceNotFoundException
// (the table does not exist: deleted, not yet created, or an emulator that
// restarted empty) becomes a *task.MissingResourceError naming the table,
// so that callers tell a deployment fault from an outage. Every call the
// store makes is on its one table.
type tableClient struct {
	c     Client
	table string
}

func (c tableClient) missing(err error) error {
	if _, ok := errors.AsType[*types.ResourceNotFoundException](err); ok {
		return &task.MissingResourceError{Kind: "table", Name: c.table, Err: err}
	}
	return err
}

func (c tableClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := c.c.PutItem(ctx, in, optFns...)
	return out, c.missing(err)
}

func (c tableClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := c.c.GetItem(ctx, in, optFns...)
	return out, c.missing(err)
}

func (c tableClient) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := c.c.BatchGetItem(ctx, in, optFns...)
	return out, c.missing(err)
}

func (c tableClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := c.c.UpdateItem(ctx, in, optFns...)
	return out, c.missing(err)
}

func (c tableClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := c.c.TransactWriteItems(ctx, in, optFns...)
	return out, c.missing(err)
}
