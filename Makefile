# shardgate: `make up` starts a local cluster, `make test` runs every test.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:/usr/sbin:$(PATH)

GO        ?= go
DATA_DIR  ?= .cluster
TEST_FLAGS ?= -race -count=1 -timeout 25m

.PHONY: deps build up test compat vet fmt check bench clean

deps:
	@scripts/install-deps.sh

build:
	$(GO) build -o bin/ ./cmd/...

up: deps build
	bin/shardgate up --data-dir $(DATA_DIR)

test: deps
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test $(TEST_FLAGS) ./...

# The driver and tool compatibility suite alone (make test runs it too, as
# part of ./...): go-sql-driver, GORM, Connector/J, PyMySQL, mysql2, the
# mariadb CLI and mariadb-dump against a gateway (docs/NOTES.md).
compat: deps
	$(GO) test $(TEST_FLAGS) ./compat

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
