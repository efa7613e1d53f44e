#!/usr/bin/env bash
# Build the five functions and deploy the asyncprime stack to a running
# LocalStack with samlocal, then print the HTTP API's URL.
#
#   make localstack-up              # or docker compose -f localstack/docker-compose.yml up -d
#   localstack/deploy.sh            # extra arguments go to samlocal deploy
#
# Environment: STACK_NAME (asyncprime, as in samconfig.toml),
# LOCALSTACK_ENDPOINT (http://localhost:4566). Progress goes to standard
# error; standard output is the API's URL alone: API=$(localstack/deploy.sh)
#
# It keeps to bash 3.2, which macOS ships (see scripts/sam-local.sh).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

stack=${STACK_NAME:-asyncprime}
endpoint=${LOCALSTACK_ENDPOINT:-http://localhost:4566}
region=us-east-1

die() { echo "localstack/deploy.sh: $*" >&2; exit 1; }

command -v samlocal >/dev/null || die "samlocal not found: pip install aws-sam-cli-local (it installs the AWS SAM CLI with it)"
command -v curl >/dev/null || die "curl not found"
if ! curl -fsS "$endpoint/_localstack/health" >/dev/null; then
	hint="start it: make localstack-up (or docker compose -f localstack/docker-compose.yml up -d)"
	[[ -n ${LOCALSTACK_AUTH_TOKEN:-} ]] ||
		hint="$hint, with LOCALSTACK_AUTH_TOKEN set: the image does not start without it (see localstack/README.md)"
	die "LocalStack does not answer at $endpoint; $hint"
fi

# LocalStack accepts any credentials; the SAM CLI and the AWS CLI want some.
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_DEFAULT_REGION=$region
export AWS_ENDPOINT_URL=$endpoint

# Their progress is not the script's result: to standard error.
samlocal build --config-env localstack >&2
samlocal deploy --config-env localstack --stack-name "$stack" ${1+"$@"} >&2

if command -v awslocal >/dev/null; then
	aws=(awslocal)
elif command -v aws >/dev/null; then
	aws=(aws --endpoint-url "$endpoint")
else
	die "deployed, but neither awslocal (pip install 'awscli-local[ver1]', which brings the AWS CLI v1) nor aws is installed to read the stack's outputs"
fi
api_id=$(${aws[@]+"${aws[@]}"} cloudformation describe-stacks --region "$region" --stack-name "$stack" \
	--query "Stacks[0].Outputs[?OutputKey=='ApiId'].OutputValue" --output text)
[[ -n $api_id && $api_id != None ]] || die "stack $stack has no ApiId output"
# LocalStack may skip a resource its plan lacks rather than fail the deploy.
${aws[@]+"${aws[@]}"} apigatewayv2 get-api --region "$region" --api-id "$api_id" >/dev/null ||
	die "the stack's HTTP API ($api_id) does not exist in LocalStack: the HTTP API (API Gateway v2) needs a LocalStack plan that includes it (see localstack/README.md)"

hostport=${endpoint#*://}
hostport=${hostport%%/*}
port=4566
[[ $hostport == *:* ]] && port=${hostport##*:}
echo "HTTP API (also at $endpoint/_aws/execute-api/$api_id):" >&2
echo "http://$api_id.execute-api.localhost.localstack.cloud:$port"
