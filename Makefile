# shardgate: `make up` starts a local cluster, `make test` runs every test.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:/usr/sbin:$(PATH)

GO        ?= go
DATA_DIR  ?= .cluster
TEST_FLAGS ?= -race -count=1 -timeout 25m
# staticcheck, pinned, built from the module proxy (or the module cache)
# on first use; its checks are in staticcheck.conf.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: deps build up test compat vet lint fmt check bench bench-go soak clean fuzz

deps:
	@scripts/install-deps.sh

build:
	$(GO) build -o bin/ ./cmd/...

up: deps build
	bin/shardgate up --data-dir $(DATA_DIR)

test: deps
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test $(TEST_FLAGS) ./...

# fuzz: every fuzz target, one after the other, FUZZTIME each (one worker:
# the CPU is shared). Crashers land in the package's testdata/fuzz and are
# then run by `go test` as regression cases.
FUZZTIME ?= 30s
FUZZ_TARGETS := planner:FuzzParseBuild planner:FuzzAppendNormalized \
	wire:FuzzStmtExecuteRewrite wire:FuzzFenceStream wire:FuzzParseTextRow \
	gateway:FuzzHandshakeResponse gateway:FuzzCommand \
	vindex:FuzzParseKeyRange vindex:FuzzMap
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "== $$t"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) -parallel 1 ./$${t%%:*}; \
	done

# bench: the sysbench harness (benchmarks/README.md): legs A-G interleaved
# (E: a cluster started as `make up` starts it; F, G: point selects only),
# 3 rounds, and the plan-cache benchmark: about 9 minutes on 2 cores,
# then the 2PC commit-latency ratios
# (about a minute), then the resharding copy rate; BENCH_FLAGS passes options to the harness, e.g.
# BENCH_FLAGS='-rounds 1 -leg-time 2s -workloads point_select/4t/text'.
BENCH_FLAGS ?=
# Then the resharding bench (about 3 minutes): BENCH_RESHARD=0 skips it,
# RESHARD_BENCH_FLAGS passes options, e.g. '-rows 200000 -write-rate 100'.
BENCH_RESHARD ?= 1
RESHARD_BENCH_FLAGS ?=
bench: deps
	@scripts/install-deps.sh sysbench
	$(GO) run ./benchmarks/cmd/bench $(BENCH_FLAGS)
	@echo "== Commit latency ratios (twopc vs multi vs autocommit, one run; see gateway/commit_bench_test.go)"
	$(GO) test -run '^$$' -bench 'Commit' -benchtime 1000x ./gateway
	@if [ "$(BENCH_RESHARD)" != 0 ]; then \
	  echo "== Resharding: copy rate of a 1,000,000-row table and write-switch stalls while a writer runs (benchmarks/cmd/reshardbench; BENCH_RESHARD=0 skips it)"; \
	  $(GO) run ./benchmarks/cmd/reshardbench $(RESHARD_BENCH_FLAGS); \
	fi

# soak: the failover soak (failover/soak_test.go) with 20 SIGKILLs instead
# of make test's 5 (about 10 minutes; SOAK_KILLS to change).
# Then the resharding controller kills: TestWriteSwitchSurvivesControllerKills
# with SOAK_SWITCH_KILLS killed write switches instead of 3 (about 20 s each).
SOAK_KILLS ?= 20
SOAK_SWITCH_KILLS ?= 15
soak: deps
	SHARDGATE_SOAK_KILLS=$(SOAK_KILLS) $(GO) test -race -count=1 -timeout 60m -run 'TestFailoverSoak' -v ./failover
	SHARDGATE_SOAK_SWITCH_KILLS=$(SOAK_SWITCH_KILLS) $(GO) test -race -count=1 -timeout 30m -run 'TestWriteSwitchSurvivesControllerKills' -v ./cmd/shardctl

# bench-go: the Go microbenchmarks of the hot path (allocations reported).
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 2000x ./vindex ./planner ./engine ./wire ./gateway

# The driver and tool compatibility suite alone (make test runs it too, as
# part of ./...): go-sql-driver, GORM, Connector/J, PyMySQL, mysql2, the
# mariadb CLI and mariadb-dump against a gateway (docs/NOTES.md).
compat: deps
	$(GO) test $(TEST_FLAGS) ./compat

vet:
	$(GO) vet ./...

# lint: go vet and staticcheck, as make test runs them.
lint: vet
	$(STATICCHECK) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
