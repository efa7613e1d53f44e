# asyncprime: submit a number, poll whether it is prime — on AWS Lambda,
# SQS and DynamoDB, or on one machine. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
ADDR      ?= 127.0.0.1:8000
FUNCTIONS := submit worker status
BIN       := bin
# Lambda build: arm64, static, stripped, without the legacy RPC mode.
LAMBDA_ENV   := CGO_ENABLED=0 GOOS=linux GOARCH=arm64
LAMBDA_FLAGS := -trimpath -tags lambda.norpc -ldflags='-s -w'
FUZZTIME  ?= 5s

export ADDR

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the local mode, the load generator and the three Lambda bootstraps (arm64)
	$(GO) build -o $(BIN)/local ./cmd/local
	$(GO) build -o $(BIN)/loadgen ./cmd/loadgen
	@for fn in $(FUNCTIONS); do \
		echo "build $(BIN)/lambda/$$fn/bootstrap"; \
		$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(BIN)/lambda/$$fn/bootstrap ./functions/$$fn; \
	done

.PHONY: run
run: ## Run the whole system on this machine (embedded, durable): API on $ADDR
	$(GO) run ./cmd/local

.PHONY: test
test: tools ## Everything: unit, conformance against moto, template checks, race detector, short fuzzing
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	EMULATOR_REQUIRED=1 $(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory fuzz

.PHONY: test-unit
test-unit: ## Tests that need no emulator (those that do are skipped, and say so)
	$(GO) test -count=1 ./...

.PHONY: fuzz
fuzz: ## Run each fuzz target for $FUZZTIME (default 5s)
	$(GO) test -run='^$$' -fuzz='^FuzzParseNumber$$' -fuzztime=$(FUZZTIME) ./internal/task
	$(GO) test -run='^$$' -fuzz='^FuzzParseBody$$' -fuzztime=$(FUZZTIME) ./internal/api
	$(GO) test -run='^$$' -fuzz='^FuzzIsPrime64$$' -fuzztime=$(FUZZTIME) ./internal/prime
	$(GO) test -run='^$$' -fuzz='^FuzzIsPrime$$' -fuzztime=$(FUZZTIME) ./internal/prime

.PHONY: tools
tools: ## Check for (or install) moto_server, cfn-lint and aws-sam-translator, which the tests need
	@command -v python3 >/dev/null || { echo "python3 is required for the emulator and template tests"; exit 1; }
	@command -v moto_server >/dev/null || python3 -m pip install --quiet 'moto[server]' || { echo "moto_server is missing and could not be installed"; exit 1; }
	@command -v cfn-lint >/dev/null || python3 -m pip install --quiet cfn-lint || { echo "cfn-lint is missing and could not be installed"; exit 1; }
	@python3 -c 'import samtranslator' 2>/dev/null || python3 -m pip install --quiet aws-sam-translator || { echo "aws-sam-translator is missing and could not be installed"; exit 1; }

.PHONY: bench
bench: ## Micro-benchmarks (primality, queue, store)
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/...

.PHONY: clean
clean: ## Remove build output and local data
	rm -rf $(BIN) .data

-include sam.mk
