# Common tasks. `make help` lists them.
.PHONY: help test check bench build demo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build ./calldiag
	go build -o calldiag ./cmd/calldiag

demo: ## serve simulated calls of the last 24 hours
	go run ./cmd/calldiag demo

test: ## run every test
	go test ./...

check: ## formatting, vet, tests, race tests of the concurrent packages
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	go vet ./...
	go test ./...
	go test -race ./internal/pipeline/... ./internal/api/... ./internal/server/...

bench: ## the benchmarks quoted in docs/BENCHMARKS.md
	go test -run XXX -bench 'IngestEndToEnd|DecodeBaseline' -benchtime 5x -count 5 ./internal/pipeline
	go test -run XXX -bench 'Search|Timeline|Append|Record' -benchtime 20x -count 5 ./internal/store/sqlite
	go test -run XXX -bench 'Reader|Normalize' -count 5 ./internal/ingest/...
