# The Makefile is the contract: every target works from a clean clone with only Go
# (and, for lab/e2e, Docker with Compose) installed. Tools run pinned through the
# Go toolchain (tools/go.mod, tools/buf/go.mod); nothing is preinstalled.

GO       ?= go
BUF      := $(GO) tool -modfile=tools/buf/go.mod buf
YAEGI    := $(GO) tool -modfile=tools/go.mod yaegi
GOFLAGS_TEST ?= -race -count=1

.PHONY: all build generate check-generate lint test fuzz e2e chaos chaos-allinone mutate mutate-fast workshop bench lab lab-down images allinone memcg-v2

all: build

build:
	$(GO) build ./...

## generate: protobuf (buf) and the yaegi symbol table for the edge SDK.
generate:
	$(BUF) generate
	cd sandbox/symbols && $(GO) generate ./...

## check-generate: fail when committed generated code is stale.
check-generate: generate
	@git diff --exit-code -- proto sandbox/symbols || (echo "generated code is stale: run 'make generate' and commit" >&2; exit 1)
	@test -z "$$(git status --porcelain -- proto sandbox/symbols)" || (git status --porcelain -- proto sandbox/symbols; echo "untracked generated files: run 'make generate' and commit" >&2; exit 1)

lint:
	$(BUF) lint
	$(GO) vet ./...

test:
	$(GO) test $(GOFLAGS_TEST) ./...

## fuzz: every parser and listener fuzz target for a few seconds (EDGELAB_FUZZTIME, default 5s each).
fuzz:
	scripts/fuzz.sh

## memcg-v2: the memory-cgroup tests on a real cgroup v2 kernel, in a throwaway qemu VM.
memcg-v2:
	scripts/memcg-v2-vm.sh

## images: static binaries + the FROM-scratch image edgelab:dev (no pulls needed).
images:
	scripts/images.sh

## lab: build and start the docker compose lab (3 etcd, 2 control planes, 5 edges, 2 origins, gateway).
lab:
	scripts/lab.sh up

lab-down:
	scripts/lab.sh down

## e2e: compose smoke test against the running compose lab (make lab first).
e2e:
	scripts/lab.sh smoke

## chaos: every deploy/scenarios/*.yaml against the running compose lab; reports in build/reports/.
chaos:
	scripts/lab.sh chaos

## chaos-allinone: the chaos scenarios against a fresh all-in-one lab (no Docker needed).
chaos-allinone:
	scripts/lab.sh chaos-allinone

## mutate: every planted bug of chaos/mutations/ against the check meant to catch it; prints the mutation score.
mutate:
	scripts/mutate.sh

## mutate-fast: the CI subset of make mutate.
mutate-fast:
	scripts/mutate.sh --fast

## workshop: run every command of docs/workshop/ against an in-process lab.
workshop:
	$(GO) test -count=1 ./workshop/

## allinone: the one-process lab (same as `go run ./cmd/edgelab up`).
allinone:
	$(GO) run ./cmd/edgelab up

## bench: go benchmarks plus the load comparison against nginx (scripts/bench.sh).
bench:
	scripts/bench.sh
