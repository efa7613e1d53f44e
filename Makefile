# asyncprime: submit a number, poll whether it is prime — on AWS Lambda,
# SQS and DynamoDB, or on one machine. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
ADDR      ?= 127.0.0.1:8000
FUNCTIONS := submit worker status deadletter
BIN       := bin
FUZZTIME  ?= 10000x
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE       := $(BIN)/aws-lambda-rie
GOTESTSUM_VERSION   := v1.13.0
STATICCHECK_VERSION := v0.8.2
GOTESTSUM   := $(BIN)/gotestsum
STATICCHECK := $(BIN)/staticcheck
# Each package's result as one line, then every failed test's output and
# every skipped test's reason; the full event stream goes to a JSON file.
GOTESTSUM_FLAGS := --format pkgname --format-icons text --format-hide-empty-pkg
FN        ?= submit
EVENT     ?= events/$(FN).json

export ADDR

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-25s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The recipes keep to bash 3.2, which macOS ships: no case modification
# (bash 4; the logical id's first letter is made upper case with tr), and
# no GNU-only stat -c.
.PHONY: build
build: ## Build the local mode, the tools and the four Lambda bootstraps (linux/arm64; LAMBDA_ARCH=x86_64 for linux/amd64)
	$(GO) build -o $(BIN)/local ./cmd/local
	$(GO) build -o $(BIN)/loadgen ./cmd/loadgen
	$(GO) build -o $(BIN)/invoke ./cmd/invoke
	$(GO) build -o $(BIN)/primectl ./cmd/primectl
	@for fn in $(FUNCTIONS); do \
		case $$fn in deadletter) id=DeadLetter;; *) id=$$(printf %s "$${fn:0:1}" | tr '[:lower:]' '[:upper:]')$${fn:1};; esac; \
		$(MAKE) --no-print-directory -f sam.mk build-$${id}Function ARTIFACTS_DIR=$(BIN)/lambda/$$fn; \
	done

.PHONY: package
package: build ## Zip each bootstrap (arm64 unless LAMBDA_ARCH=x86_64) as Lambda takes it, and print the sizes
	@mkdir -p dist
	@printf "%-10s %12s %12s\n" function bootstrap zip
	@for fn in $(FUNCTIONS); do \
		rm -f dist/$$fn.zip; \
		(cd $(BIN)/lambda/$$fn && zip -q -X -9 ../../../dist/$$fn.zip bootstrap); \
		printf "%-10s %12s %12s\n" $$fn "$$(wc -c < $(BIN)/lambda/$$fn/bootstrap | tr -d ' ')" "$$(wc -c < dist/$$fn.zip | tr -d ' ')"; \
	done

.PHONY: run
run: ## Run the whole system on this machine (embedded, durable): API on $ADDR
	$(GO) build -o $(BIN)/local ./cmd/local
	exec $(BIN)/local

.PHONY: run-aws
run-aws: ## Run the local mode on the SQS and DynamoDB APIs (moto on loopback unless AWS_ENDPOINT_URL/QUEUE_URL/TABLE_NAME say otherwise)
	$(GO) build -o $(BIN)/local ./cmd/local
	BACKEND=aws exec $(BIN)/local

.PHONY: invoke
invoke: $(RIE) ## Run one function's bootstrap under the Lambda Runtime Interface Emulator: make invoke FN=submit|worker|status|deadletter [EVENT=file]
	CGO_ENABLED=0 $(GO) build -trimpath -tags lambda.norpc -o $(BIN)/host/$(FN)/bootstrap ./functions/$(FN)
	$(GO) run ./cmd/invoke -fn $(FN) -event $(EVENT) -bootstrap $(BIN)/host/$(FN)/bootstrap -rie $(RIE)

.PHONY: sam-local
sam-local: ## The pipeline under the SAM CLI and Docker: moto (or AWS_ENDPOINT_URL), sam local start-api on :3000 and start-lambda on :3001, and the SQS trigger (see README)
	scripts/sam-local.sh

.PHONY: deploy
deploy: ## Build with SAM and deploy to your AWS account (sam build && sam deploy --guided)
	@case "$${LAMBDA_ARCH:-arm64}" in arm64) ;; *) echo "make deploy: LAMBDA_ARCH is '$$LAMBDA_ARCH', but the stack deploys arm64 functions (the Architecture parameter's default): unset LAMBDA_ARCH, which is for sam local, or build and deploy by hand with --parameter-overrides Architecture=$$LAMBDA_ARCH" >&2; exit 1;; esac
	sam build
	sam deploy --guided

.PHONY: localstack-up
localstack-up: ## Start LocalStack on 127.0.0.1:4566 (localstack/docker-compose.yml); needs LOCALSTACK_AUTH_TOKEN
	@[ -n "$${LOCALSTACK_AUTH_TOKEN:-}" ] || { echo "make localstack-up: LOCALSTACK_AUTH_TOKEN is not set; the LocalStack image does not start without one (app.localstack.cloud > Auth Tokens; see localstack/README.md)" >&2; exit 1; }
	docker compose -f localstack/docker-compose.yml up -d

.PHONY: localstack-deploy
localstack-deploy: ## Deploy the stack to a running LocalStack with samlocal (see localstack/README.md)
	localstack/deploy.sh

.PHONY: test
test: tools ## Everything: gofmt, vet, staticcheck, unit, conformance against moto, template checks, race detector, short fuzzing
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed (gofmt -w these):"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@mkdir -p $(BIN)
	@echo "EMULATOR_REQUIRED=1 go test -race -count=1 ./...   (every event: $(BIN)/test.json)"
	@status=0; EMULATOR_REQUIRED=1 $(GOTESTSUM) $(GOTESTSUM_FLAGS) --jsonfile $(BIN)/test.json -- -race -count=1 ./... || status=$$?; \
		echo; echo "Suites:"; $(call suites,$(BIN)/test.json); \
		if [ $$status -ne 0 ]; then echo; echo "make test: FAILED (the failed tests and their output are listed above under === Failed)"; fi; \
		exit $$status
	$(MAKE) --no-print-directory fuzz

# suites prints the result of each conformance and end-to-end suite from a
# go test -json file: "pass TestQueueConformance internal/memory".
suites = sed -nE 's!.*"Action":"(pass|fail|skip)","Package":"github.com/asyncprime/asyncprime/([^"]*)","Test":"(Test[A-Za-z0-9_]*(Conformance|EndToEnd|DeployedShape)[A-Za-z0-9_]*)".*!  \1  \3  \2!p' $(1) | sort -k2

.PHONY: test-unit
test-unit: $(GOTESTSUM) ## Tests that need no emulator (those that do are skipped, and listed with the reason)
	$(GOTESTSUM) $(GOTESTSUM_FLAGS) -- -count=1 ./...

STRESS_PKGS  ?= ./internal/rie ./internal/samlocal ./internal/dynamo ./internal/local ./internal/bolt ./internal/memory ./internal/queue/... ./internal/queuetest ./internal/sqsqueue ./cmd/...
STRESS_COUNT ?= 3

.PHONY: test-stress
test-stress: tools ## Two copies at once of go test -race -count=$STRESS_COUNT on the suites that start processes or use time ($STRESS_PKGS)
	@mkdir -p $(BIN)
	@echo "building the test binaries once"; $(GO) test -race -count=1 -run='^$$' $(STRESS_PKGS) >/dev/null
	@echo "two copies at once of: EMULATOR_REQUIRED=1 go test -race -count=$(STRESS_COUNT) $(STRESS_PKGS)"
	@pids=(); for i in 1 2; do \
		EMULATOR_REQUIRED=1 $(GOTESTSUM) $(GOTESTSUM_FLAGS) --jsonfile $(BIN)/stress-$$i.json -- -race -count=$(STRESS_COUNT) $(STRESS_PKGS) > $(BIN)/stress-$$i.log 2>&1 & pids+=($$!); \
	done; \
	failed=""; for i in 1 2; do wait "$${pids[$$((i-1))]}" || failed="$$failed $$i"; done; \
	for i in 1 2; do \
		case " $$failed " in *" $$i "*) echo; echo "=== copy $$i: FAILED ($(BIN)/stress-$$i.log)"; cat $(BIN)/stress-$$i.log;; \
		*) echo "=== copy $$i: passed: $$(grep '^DONE' $(BIN)/stress-$$i.log)";; esac; \
	done; \
	if [ -n "$$failed" ]; then echo; echo "make test-stress: copy$$failed FAILED"; exit 1; fi

.PHONY: fuzz
fuzz: ## Run each fuzz target for $FUZZTIME (default 10000x: a count, since a duration races Go 1.26's fuzz coordinator, golang/go#75804)
	$(GO) test -run='^$$' -fuzz='^FuzzParseNumber$$' -fuzztime=$(FUZZTIME) ./internal/task
	$(GO) test -run='^$$' -fuzz='^FuzzParseID$$' -fuzztime=$(FUZZTIME) ./internal/task
	$(GO) test -run='^$$' -fuzz='^FuzzParseRequest$$' -fuzztime=$(FUZZTIME) ./internal/api
	$(GO) test -run='^$$' -fuzz='^FuzzIsPrime64$$' -fuzztime=$(FUZZTIME) ./internal/prime
	$(GO) test -run='^$$' -fuzz='^FuzzIsPrime$$' -fuzztime=$(FUZZTIME) ./internal/prime
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeTask$$' -fuzztime=$(FUZZTIME) ./internal/bolt

$(RIE):
	GOBIN=$(abspath $(BIN)) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

$(GOTESTSUM):
	GOBIN=$(abspath $(BIN)) $(GO) install gotest.tools/gotestsum@$(GOTESTSUM_VERSION)

$(STATICCHECK):
	GOBIN=$(abspath $(BIN)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

.PHONY: tools
tools: $(RIE) $(GOTESTSUM) $(STATICCHECK) tools-browser ## Install what the tests need: the Lambda RIE, gotestsum and staticcheck (pinned, into bin/), Chromium, and moto_server, cfn-lint, aws-sam-translator if missing
	@command -v python3 >/dev/null || { echo "python3 is required for the emulator and template tests"; exit 1; }
	@command -v moto_server >/dev/null || python3 -m pip install --quiet 'moto[server]' || { echo "moto_server is missing and could not be installed"; exit 1; }
	@command -v cfn-lint >/dev/null || python3 -m pip install --quiet cfn-lint || { echo "cfn-lint is missing and could not be installed"; exit 1; }
	@python3 -c 'import samtranslator' 2>/dev/null || python3 -m pip install --quiet aws-sam-translator || { echo "aws-sam-translator is missing and could not be installed"; exit 1; }

# The console's browser tests drive Debian's headless Chromium. Installed
# with apt-get when missing and running as root; a no-op when it is there.
.PHONY: tools-browser
tools-browser: ## Install Chromium for the console's browser tests (apt-get, as root) if it is missing
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing chromium with apt-get"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null \
				|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null; }; \
		else \
			echo "chromium is missing: install it (Debian: apt-get install chromium) for the console's browser tests"; exit 1; \
		fi; }

.PHONY: bench
bench: $(RIE) ## Micro-benchmarks: primality, the embedded store, Lambda cold starts under the RIE
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/prime ./internal/bolt
	$(GO) test -run='^$$' -bench=ColdStart -benchtime=10x ./internal/rie

LOAD_ARGS ?= -n 2000 -c 16

.PHONY: bench-load
bench-load: ## Start the local mode and load it: LOAD_ARGS (default "-n 2000 -c 16"), BACKEND (default bolt)
	scripts/bench-load.sh $(LOAD_ARGS)

.PHONY: bench-capacity
bench-capacity: ## Open-loop sweep against make run (fresh data dir); SEED=1 then sweeps the tutorial's stack and prints the ratio (RATES, SEED_RATES, DURATION, POLL, OBJECTIVE)
	scripts/bench-capacity.sh

.PHONY: soak
soak: ## Push 100,000 tasks through the embedded mode; reports accepted = finished, lost, duplicates
	scripts/bench-load.sh -n 100000 -c 64 -progress 10s

.PHONY: clean
clean: ## Remove build output (bin/, dist/) and local data
	rm -rf $(BIN) dist .data

-include sam.mk
