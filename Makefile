# mlflow-bulk. `make test` is the one command CI runs: it installs and starts the
# database servers the tests need (scripts/test-servers), runs every test, stops them.
GO ?= go
BIN := bin/mlflow-bulk
SHELL := /bin/bash

.PHONY: build test race ci unit-test check vet demo clean bench bench-go

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/mlflow-bulk

# go vet and gofmt: quick, and part of make test.
check:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# check, and golangci-lint with the project's .golangci.yml (built once into bin/, which
# takes a few minutes the first time).
vet: check
	scripts/lint

# Every test, against real servers started for the run. Packages run one at a time: one
# test switches a server setting off and on. The output is each package's result, the
# output of failed tests, and one closing line: passed, failed, skipped, and why skipped.
test: check
	$(GO) build -o bin/testsummary ./internal/tools/testsummary
	set -o pipefail; scripts/test-servers run $(GO) test -json -count=1 -p 1 -timeout 20m ./... 2>&1 | bin/testsummary

# The packages that run goroutines side by side (the producer of a source, the file
# store's workers, the import's read-ahead, MySQL's LOAD DATA pipe, progress, artifact copies), under the
# race detector. Of the importer, the tests that drive its read-ahead and concurrent
# imports: its whole suite under -race would take most of an hour on two cores. Of the
# tracking server source, its pipeline runs under -race in the conformance and retry tests;
# every real sample through a server is left to the plain run.
RACE_PACKAGES := ./sources/... ./drivers/... ./internal/progress ./cmd/... ./artifacts/...
RACE_IMPORTER := TestReadAheadMerge|TestNoOpReimportAsksPerWindow|TestConcurrentImports|TestImportRealFileStores|TestSQLDumpsImportAsTheLiveDatabase
race:
	$(GO) build -o bin/testsummary ./internal/tools/testsummary
	set -o pipefail; scripts/test-servers run bash -c '$(GO) test -race -json -count=1 -p 1 -timeout 20m -skip "^TestServerAsSource$$" $(RACE_PACKAGES) && $(GO) test -race -json -count=1 -timeout 20m -run "^($(RACE_IMPORTER))$$" ./importer' 2>&1 | bin/testsummary

# What CI runs: the linter, the race detector on the concurrent code, then every test
# (last, so that the closing line is the whole suite's).
ci: vet race test

# Tests that need no server (the others skip, saying why).
unit-test:
	$(GO) test ./...

# The README's quick start: a synthetic file store imported into the default SQLite target.
demo: build
	rm -rf demo-mlruns mlflow.db
	$(BIN) generate demo-mlruns --runs 20 --special >/dev/null
	$(BIN) import demo-mlruns

clean:
	rm -rf bin demo-mlruns mlflow.db

# Speed and memory against each database's own bulk path (several minutes; BENCH_RUNS=200 for a quick run).
bench:
	scripts/bench
	scripts/bench-server
	scripts/bench-artifacts

# The hot paths on their own (no server): go test benchmarks, figures in BENCHMARKS.md.
bench-go:
	$(GO) test ./importer ./sinks -run '^$$' -bench .
