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
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE       := $(BIN)/aws-lambda-rie
FN        ?= submit
EVENT     ?= events/$(FN).json

export ADDR

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-22s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the local mode, the tools and the three Lambda bootstraps (linux/arm64)
	$(GO) build -o $(BIN)/local ./cmd/local
	$(GO) build -o $(BIN)/loadgen ./cmd/loadgen
	$(GO) build -o $(BIN)/invoke ./cmd/invoke
	@for fn in $(FUNCTIONS); do \
		$(MAKE) --no-print-directory -f sam.mk build-$${fn^}Function ARTIFACTS_DIR=$(BIN)/lambda/$$fn; \
	done

.PHONY: package
package: build ## Zip each arm64 bootstrap as Lambda takes it, and print the sizes
	@mkdir -p dist
	@printf "%-8s %12s %12s\n" function bootstrap zip
	@for fn in $(FUNCTIONS); do \
		rm -f dist/$$fn.zip; \
		(cd $(BIN)/lambda/$$fn && zip -q -X -9 ../../../dist/$$fn.zip bootstrap); \
		printf "%-8s %12s %12s\n" $$fn "$$(stat -c %s $(BIN)/lambda/$$fn/bootstrap)" "$$(stat -c %s dist/$$fn.zip)"; \
	done

.PHONY: run
run: ## Run the whole system on this machine (embedded, durable): API on $ADDR
	$(GO) run ./cmd/local

.PHONY: run-aws
run-aws: ## Run the local mode on the SQS and DynamoDB APIs (moto on loopback unless AWS_ENDPOINT_URL/QUEUE_URL/TABLE_NAME say otherwise)
	BACKEND=aws $(GO) run ./cmd/local

.PHONY: invoke
invoke: $(RIE) ## Run one function's bootstrap under the Lambda Runtime Interface Emulator: make invoke FN=submit|worker|status [EVENT=file]
	CGO_ENABLED=0 $(GO) build -trimpath -tags lambda.norpc -o $(BIN)/host/$(FN)/bootstrap ./functions/$(FN)
	$(GO) run ./cmd/invoke -fn $(FN) -event $(EVENT) -bootstrap $(BIN)/host/$(FN)/bootstrap -rie $(RIE)

.PHONY: deploy
deploy: ## Build with SAM and deploy to your AWS account (sam build && sam deploy --guided)
	sam build
	sam deploy --guided

.PHONY: localstack-deploy
localstack-deploy: ## Deploy the stack to a running LocalStack with samlocal (see localstack/README.md)
	localstack/deploy.sh

.PHONY: test
test: tools ## Everything: unit, conformance against moto, template checks, race detector, short fuzzing
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	@mkdir -p $(BIN)
	@echo "EMULATOR_REQUIRED=1 go test -race -count=1 -v ./...   (full log: $(BIN)/test.log)"
	@EMULATOR_REQUIRED=1 $(GO) test -race -count=1 -v ./... > $(BIN)/test.log 2>&1; status=$$?; \
		grep -E '^(ok|FAIL|panic:)|^--- (PASS|FAIL|SKIP): Test\w*(Conformance|EndToEnd|DeployedShape)' $(BIN)/test.log; \
		if [ $$status -ne 0 ]; then echo; echo "--- failures ---"; grep -E -A15 '^\s*--- FAIL' $(BIN)/test.log | head -200; fi; \
		exit $$status
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

$(RIE):
	GOBIN=$(abspath $(BIN)) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

.PHONY: tools
tools: $(RIE) ## Install what the tests need: the Lambda RIE (pinned, into bin/), and moto_server, cfn-lint, aws-sam-translator if missing
	@command -v python3 >/dev/null || { echo "python3 is required for the emulator and template tests"; exit 1; }
	@command -v moto_server >/dev/null || python3 -m pip install --quiet 'moto[server]' || { echo "moto_server is missing and could not be installed"; exit 1; }
	@command -v cfn-lint >/dev/null || python3 -m pip install --quiet cfn-lint || { echo "cfn-lint is missing and could not be installed"; exit 1; }
	@python3 -c 'import samtranslator' 2>/dev/null || python3 -m pip install --quiet aws-sam-translator || { echo "aws-sam-translator is missing and could not be installed"; exit 1; }

.PHONY: bench
bench: $(RIE) ## Micro-benchmarks: primality, the embedded store, Lambda cold starts under the RIE
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/prime ./internal/bolt
	$(GO) test -run='^$$' -bench=ColdStart -benchtime=10x ./internal/rie

LOAD_ARGS ?= -n 2000 -c 16

.PHONY: bench-load
bench-load: ## Start the local mode and load it: LOAD_ARGS (default "-n 2000 -c 16"), BACKEND (default bolt)
	scripts/bench-load.sh $(LOAD_ARGS)

.PHONY: soak
soak: ## Push 100,000 tasks through the embedded mode; reports accepted = finished, lost, duplicates
	scripts/bench-load.sh -n 100000 -c 64 -progress 10s

.PHONY: clean
clean: ## Remove build output (bin/, dist/) and local data
	rm -rf $(BIN) dist .data

-include sam.mk
