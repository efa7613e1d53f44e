# sam.mk: the build targets `sam build` runs for template.yaml.
#
# Each function in template.yaml has `Metadata: BuildMethod: makefile` and
# `CodeUri: .`, so SAM runs `make build-<LogicalId>` against the Makefile at
# the repository root (which includes this file), with ARTIFACTS_DIR set to
# the function's build directory. Each target compiles one main package
# into $(ARTIFACTS_DIR)/bootstrap, the file the provided.al2023 runtime runs.
#
# By hand: make -f sam.mk build-SubmitFunction ARTIFACTS_DIR=/tmp/submit
#
# LAMBDA_ARCH (environment or make variable) is the functions'
# architecture, as template.yaml's Architecture parameter names it: arm64
# (the default) or x86_64. The SAM CLI does not tell make the architecture
# (it passes its environment and ARTIFACTS_DIR only), so a build for
# Architecture=x86_64 needs LAMBDA_ARCH=x86_64 too:
#   LAMBDA_ARCH=x86_64 sam build --parameter-overrides Architecture=x86_64
# Unset or empty, it is arm64.
SAM_ARCH = $(or $(strip $(LAMBDA_ARCH)),arm64)

# The Go settings of each architecture, set in full so that none comes from
# the caller's environment.
# arm64: Lambda's arm64 functions run on AWS Graviton processors (Graviton2
# and later: Armv8.2-A and up), so the compiler may use the Armv8.1 atomics
# (LSE) without a run-time check: 64-128 KiB less per bootstrap.
# x86_64: for sam local on x86_64 Docker without arm64 emulation. Lambda
# documents no x86-64 level its hosts guarantee, so the baseline, v1.
SAM_GOARCH_arm64  := GOARCH=arm64 GOARM64=v8.2
SAM_GOARCH_x86_64 := GOARCH=amd64 GOAMD64=v1

SAM_GOENV   = CGO_ENABLED=0 GOOS=linux $(SAM_GOARCH_$(SAM_ARCH))
SAM_GOBUILD := go build -trimpath -tags lambda.norpc -ldflags='-s -w'

# sam_build compiles ./functions/$(1) for Lambda: linux, on SAM_ARCH.
define sam_build
	$(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set; sam build sets it, or pass ARTIFACTS_DIR=dir))
	$(if $(SAM_GOARCH_$(SAM_ARCH)),,$(error LAMBDA_ARCH is '$(LAMBDA_ARCH)'; want arm64 (the default) or x86_64, the values of template.yaml's Architecture parameter))
	$(SAM_GOENV) $(SAM_GOBUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(1)
endef

.PHONY: build-SubmitFunction build-WorkerFunction build-BigWorkerFunction build-DeadLetterFunction build-StatusFunction

build-SubmitFunction: ## sam build: the submit function's bootstrap, into ARTIFACTS_DIR
	$(call sam_build,submit)

build-WorkerFunction: ## sam build: the worker function's bootstrap, into ARTIFACTS_DIR
	$(call sam_build,worker)

build-BigWorkerFunction: ## sam build: the big-number worker (the worker's bootstrap), into ARTIFACTS_DIR
	$(call sam_build,worker)

build-DeadLetterFunction: ## sam build: the dead-letter function's bootstrap, into ARTIFACTS_DIR
	$(call sam_build,deadletter)

build-StatusFunction: ## sam build: the status function's bootstrap, into ARTIFACTS_DIR
	$(call sam_build,status)
