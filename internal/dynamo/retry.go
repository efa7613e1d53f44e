package dynamo

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/task"
)

var _ task.Reopener = (*Store)(nil)

// Reopen implements task.Reopener with one conditional UpdateItem. Only an
// operator calls it (the console, with the operator's credentials): no
// function's role needs more than it has.
func (s *Store) Reopen(ctx context.Context, id string, expiresAt time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 map[string]types.AttributeValue{AttrID: &types.AttributeValueMemberS{Value: id}},
		UpdateExpression:    aws.String("SET #status = :pending, #expires = :expires REMOVE #error, #started, #finished, #prime"),
		ConditionExpression: aws.String("#status = :failure"),
		ExpressionAttributeNames: map[string]string{
			"#status": AttrStatus, "#expires": AttrExpiresAt, "#error": AttrError,
			"#started": AttrStartedAt, "#finished": AttrFinishedAt, "#prime": AttrIsPrime,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": &types.AttributeValueMemberS{Value: string(task.StatusPending)},
			":failure": &types.AttributeValueMemberS{Value: string(task.StatusFailure)},
			":expires": &types.AttributeValueMemberN{Value: strconv.FormatInt(expiresAt.Unix(), 10)},
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		return s.conditionError("reopen", id, err)
	}
	return nil
}
