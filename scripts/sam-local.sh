#!/usr/bin/env bash
# make sam-local: the whole pipeline under the AWS SAM CLI, SQS trigger
# included. It
#   1. checks for `sam` and a container engine, and says which is missing;
#   2. starts moto on port MOTO_PORT (5050), unless AWS_ENDPOINT_URL names an
#      emulator already running (LocalStack: http://localhost:4566);
#   3. builds with `sam build` (x86_64 where Docker runs on x86_64 Linux
#      with no QEMU for arm64, arm64 elsewhere; LAMBDA_ARCH chooses), and
#      runs cmd/trigger, which creates the queue, its dead-letter queue and
#      the table as template.yaml declares them, writes the --env-vars file
#      for them, and then polls the queue and invokes WorkerFunction
#      through `sam local start-lambda`;
#   4. runs `sam local start-lambda` (127.0.0.1:3001) and
#      `sam local start-api` (127.0.0.1:3000) with that file.
# Ctrl-C stops everything it started.
#
# Environment: AWS_ENDPOINT_URL, MOTO_PORT (5050), API_PORT (3000),
# LAMBDA_PORT (3001), SAM_LOCAL_BIND (the address moto listens on; see the
# README), SAM_CONTAINER_ENDPOINT (the emulator as the containers reach it),
# SAM_LOCAL_DIR (where it keeps logs and the env file; .aws-sam/sam-local),
# SAM (the sam command), SAM_LOCAL_ARGS (more arguments for both sam local
# commands, such as --docker-network NAME), SAM_LOCAL_BINFMT_DIR (where it
# looks for QEMU's arm64 registration; /proc/sys/fs/binfmt_misc),
# LAMBDA_ARCH (arm64 or x86_64: the functions' architecture, whatever
# Docker runs on; unset, the script chooses), AWS_REGION or
# AWS_DEFAULT_REGION (the region of the emulator's resources and of the
# functions; us-east-1).
#
# It keeps to bash 3.2, which macOS ships: no `wait -n`, no negative array
# subscripts, and an array that may be empty is expanded as
# ${a[@]+"${a[@]}"}, since bash before 4.4 takes "${a[@]}" of an empty
# array for an unbound variable under set -u.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "sam-local: $*" >&2; exit 1; }
say() { echo "sam-local: $*" >&2; }

sam=${SAM:-sam}
command -v "$sam" >/dev/null || die "the AWS SAM CLI ('$sam') is not installed. Install it: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html (or: pip install aws-sam-cli). Without it, 'make invoke' runs each function under the Lambda RIE, and 'make run-aws' runs the whole pipeline."

# sam local runs each function in a container, through the Docker API.
if [[ -z ${DOCKER_HOST:-} ]]; then
	if command -v docker >/dev/null; then
		docker info >/dev/null 2>&1 || die "docker is installed but its daemon does not answer ('docker info' fails): start Docker (Docker Desktop, or 'sudo systemctl start docker')."
	elif command -v podman >/dev/null; then
		die "podman is installed, but the SAM CLI talks to a container engine through the Docker API: start podman's socket and point DOCKER_HOST at it, for example: systemctl --user start podman.socket; export DOCKER_HOST=unix://\$(podman info --format '{{.Host.RemoteSocket.Path}}')"
	else
		die "no container engine: the SAM CLI runs each function in a container. Install Docker (Docker Desktop on macOS and Windows, Docker Engine on Linux) or Podman (with DOCKER_HOST set to its socket)."
	fi
fi

moto_port=${MOTO_PORT:-5050}
api_port=${API_PORT:-3000}
lambda_port=${LAMBDA_PORT:-3001}
add_host=()
if [[ $(uname -s) == Linux ]]; then
	# Linux containers reach the host through the bridge's gateway, which
	# --add-host ...:host-gateway names; a server bound to 127.0.0.1 is out
	# of their reach, so moto listens on the gateway's address.
	add_host=(--add-host host.docker.internal:host-gateway)
	bind=${SAM_LOCAL_BIND:-}
	if [[ -z $bind ]] && command -v docker >/dev/null; then
		bind=$(docker network inspect bridge --format '{{(index .IPAM.Config 0).Gateway}}' 2>/dev/null || true)
	fi
	if [[ -z $bind ]]; then
		bind=0.0.0.0
		say "could not find the container bridge's gateway; moto listens on all interfaces (set SAM_LOCAL_BIND to choose)"
	fi
else
	# Docker Desktop routes host.docker.internal to the host's loopback.
	bind=${SAM_LOCAL_BIND:-127.0.0.1}
fi

# The functions are arm64 (template.yaml's Architecture), so sam local runs
# arm64 images. Docker Desktop emulates them; Docker Engine on an x86_64
# Linux host needs QEMU registered with binfmt_misc, or each invocation
# fails with "exec format error". There, unless LAMBDA_ARCH says otherwise,
# the script builds and runs x86_64 functions instead: LAMBDA_ARCH=x86_64
# for sam.mk and Architecture=x86_64 for the template.
case ${LAMBDA_ARCH:-arm64} in
arm64 | x86_64) ;;
*) die "LAMBDA_ARCH is '$LAMBDA_ARCH'; want arm64 or x86_64 (or leave it unset: x86_64 where Docker runs on x86_64 Linux without QEMU for arm64, arm64 elsewhere)" ;;
esac
lambda_arch=${LAMBDA_ARCH:-}
if [[ -z ${DOCKER_HOST:-} && $(uname -s) == Linux ]] && command -v docker >/dev/null; then
	docker_arch=$(docker info --format '{{.Architecture}}' 2>/dev/null || true)
	if [[ $docker_arch == x86_64 || $docker_arch == amd64 ]] && [[ ! -e ${SAM_LOCAL_BINFMT_DIR:-/proc/sys/fs/binfmt_misc}/qemu-aarch64 ]]; then
		if [[ -z $lambda_arch ]]; then
			lambda_arch=x86_64
			say "Docker runs on $docker_arch with no QEMU registered for arm64 (no qemu-aarch64 in binfmt_misc): building and running the functions as x86_64 (LAMBDA_ARCH=arm64 to keep arm64)"
		elif [[ $lambda_arch == arm64 ]]; then
			say "warning: LAMBDA_ARCH=arm64, but Docker runs on $docker_arch without QEMU registered for arm64 (no qemu-aarch64 in binfmt_misc); if sam local reports 'exec format error', register it once: docker run --privileged --rm tonistiigi/binfmt --install arm64 (or unset LAMBDA_ARCH)"
		fi
	fi
fi
lambda_arch=${lambda_arch:-arm64}
# sam.mk reads it: the SAM CLI does not tell make the architecture.
export LAMBDA_ARCH=$lambda_arch

# Each background part runs in a process group of its own (job control),
# so that it gets the INT this script sends it (a non-interactive shell
# otherwise starts background commands with INT ignored), and with it the
# processes it started; Ctrl-C reaches this script, which stops them all.
set -m
pids=()
tick= # the pid of the current 1 s sleep of the wait at the end
cleanup() {
	trap - EXIT INT TERM
	say "stopping"
	if [[ -n $tick ]]; then kill "$tick" 2>/dev/null || true; fi
	for pid in ${pids[@]+"${pids[@]}"}; do kill -INT -- "-$pid" 2>/dev/null || true; done
	for _ in $(seq 75); do
		alive=0
		for pid in ${pids[@]+"${pids[@]}"}; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.2
	done
	for pid in ${pids[@]+"${pids[@]}"}; do kill -KILL -- "-$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

logs=${SAM_LOCAL_DIR:-.aws-sam/sam-local}
mkdir -p "$logs"
if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
	endpoint=$AWS_ENDPOINT_URL
	default_container=$(sed -E 's#//(localhost|127\.0\.0\.1)([:/]|$)#//host.docker.internal\2#' <<<"$endpoint")
	say "using the emulator at $endpoint"
else
	command -v moto_server >/dev/null || die "moto_server is not installed: make tools (or pip install 'moto[server]'), or set AWS_ENDPOINT_URL to a running LocalStack"
	moto_server -H "$bind" -p "$moto_port" >"$logs/moto.log" 2>&1 &
	moto_pid=$!
	pids+=("$moto_pid")
	host=$bind
	[[ $host == 0.0.0.0 ]] && host=127.0.0.1
	endpoint=http://$host:$moto_port
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "$endpoint/moto-api/" 2>/dev/null && break
		kill -0 "$moto_pid" 2>/dev/null || die "moto did not start on $bind:$moto_port; see $logs/moto.log"
		sleep 0.2
	done
	curl -fsS -o /dev/null "$endpoint/moto-api/" || die "moto does not answer at $endpoint; see $logs/moto.log"
	default_container=http://host.docker.internal:$moto_port
	say "moto on $endpoint"
fi
container_endpoint=${SAM_CONTAINER_ENDPOINT:-$default_container}
# One region for all: an emulator keeps each region's queues and tables
# apart, and sam local would otherwise give the containers the region of
# the AWS profile, which the trigger does not read.
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
export AWS_REGION=$region AWS_DEFAULT_REGION=$region

"$sam" build --parameter-overrides "Architecture=$lambda_arch"
go build -o "$logs/trigger" ./cmd/trigger

envfile=$logs/env.json
rm -f "$envfile"
AWS_ENDPOINT_URL=$endpoint SAM_ENV_OUT=$envfile SAM_CONTAINER_ENDPOINT=$container_endpoint \
	WORKER_INVOKE_ENDPOINT=http://127.0.0.1:$lambda_port WORKER_FUNCTION_NAME=WorkerFunction \
	"$logs/trigger" &
trigger_pid=$!
pids+=("$trigger_pid")
for _ in $(seq 600); do
	[[ -s $envfile ]] && break
	kill -0 "$trigger_pid" 2>/dev/null || die "the trigger stopped before creating the queue and table"
	sleep 0.2
done
[[ -s $envfile ]] || die "the trigger did not write $envfile"

# Container start counts against the function timeout under sam local:
# the API functions get API Gateway's most, the worker 60 s. The
# architecture is the one built. (On the command line, --parameter-overrides
# replaces samconfig.toml's entirely.)
overrides="ApiFunctionTimeout=29 WorkerTimeout=60 Architecture=$lambda_arch"
# shellcheck disable=SC2086
"$sam" local start-lambda --port "$lambda_port" --region "$region" --env-vars "$envfile" --parameter-overrides "$overrides" ${add_host[@]+"${add_host[@]}"} ${SAM_LOCAL_ARGS:-} &
pids+=("$!")
# shellcheck disable=SC2086
"$sam" local start-api --port "$api_port" --region "$region" --env-vars "$envfile" --parameter-overrides "$overrides" ${add_host[@]+"${add_host[@]}"} ${SAM_LOCAL_ARGS:-} &
pids+=("$!")

say "API on http://127.0.0.1:$api_port (the functions reach the emulator at $container_endpoint); Ctrl-C stops everything"
# Stop everything as soon as any part stops: look once a second (bash 3.2
# has no `wait -n`). The sleep runs in the background and is waited for,
# so that Ctrl-C, which the trap turns into exit, ends the wait at once.
while :; do
	for pid in ${pids[@]+"${pids[@]}"}; do
		kill -0 "$pid" 2>/dev/null || break 2
	done
	sleep 1 &
	tick=$!
	wait "$tick" || true
	tick=
done
