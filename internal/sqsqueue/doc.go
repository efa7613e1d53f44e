// Package sqsqueue implements queue.Queue on Amazon SQS (a standard queue
// whose redrive policy names a dead-letter queue), for the local runner
// against LocalStack, moto or real AWS.
//
// The Lambda functions do not need it to receive: the event source mapping
// polls SQS and hands the worker events.SQSMessage records. Receive builds
// the very same records from ReceiveMessage, so that the local runner drives
// the worker's handler exactly as Lambda does. Submit uses Send only.
//
// # Event source ARN and region
//
// Records carry the queue's ARN and region, which Lambda fills in from the
// event source mapping. New derives them from the queue URL without an API
// call (so no sqs:GetQueueAttributes permission is needed):
//
//	https://sqs.<region>.amazonaws.com/<account>/<name>        (AWS)
//	https://<region>.queue.amazonaws.com/<account>/<name>      (AWS, legacy)
//	http://sqs.<region>.localhost.localstack.cloud:4566/<account>/<name>
//	http://localhost:4566/queue/<region>/<account>/<name>      (LocalStack, path strategy)
//	http://127.0.0.1:5000/<account>/<name>                     (moto, LocalStack)
//
// become arn:<partition>:sqs:<region>:<account>:<name>. A region named in the
// URL wins; otherwise the one given with WithRegion is used (pass the
// aws.Config's Region). WithARN sets the ARN outright.
package sqsqueue
