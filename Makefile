# Stills: build, run and test. `make run` starts the one-box demo,
# `make test` runs every test tier (what CI runs: .ci/run).

SHELL := /bin/sh
# Pinned tools first; the machine's Go as a fallback.
export PATH := $(CURDIR)/.tools/bin:$(PATH):/usr/local/go/bin
# Integration tests exec the built binaries from here (not a STILLS_*
# name: the binaries refuse unknown STILLS_* variables, config overrides).
TEST_ENV := TEST_STILLS_BIN_DIR=$(CURDIR)/bin

# Every module of go.work (proto, pkg, services/*).
MODULES := $(shell awk '/^[[:space:]]*\.\//{ sub(/^[[:space:]]*\.\//, ""); print }' go.work)
PKGS := $(addprefix ./,$(addsuffix /...,$(MODULES)))

GO_TEST_FLAGS ?= -race -count=1 -timeout 20m
CONFIG ?= deploy/stills.yaml

.PHONY: all setup proto build run test vet tidy-check bench bench-thumbnailer bench-soak bench-gateway clean \
	bin/stills bin/stills-ingest bin/stills-gateway bin/stills-thumbnailer

all: build

setup:
	@deploy/setup.sh

proto: setup
	protoc -I proto --plugin=protoc-gen-go=$(CURDIR)/.tools/bin/protoc-gen-go \
		--go_out=proto --go_opt=paths=source_relative stills/v1/stills.proto

build: bin/stills bin/stills-ingest bin/stills-gateway bin/stills-thumbnailer

# The one-box binary and the thumbnailer link libav (cgo); ingest and
# gateway are pure Go.
bin/stills:
	CGO_ENABLED=1 go build -o $@ ./services/stills/cmd/stills

bin/stills-thumbnailer:
	CGO_ENABLED=1 go build -o $@ ./services/thumbnailer/cmd/stills-thumbnailer

bin/stills-ingest:
	CGO_ENABLED=0 go build -o $@ ./services/ingest/cmd/stills-ingest

bin/stills-gateway:
	CGO_ENABLED=0 go build -o $@ ./services/gateway/cmd/stills-gateway

run: setup build
	bin/stills --config $(CONFIG)

test: setup build vet tidy-check
	$(TEST_ENV) go test $(GO_TEST_FLAGS) $(PKGS)

vet:
	go vet $(PKGS)

# Every module's go.mod/go.sum must be tidy.
tidy-check:
	@fail=0; for m in $(MODULES); do \
		(cd $$m && go mod tidy -diff) || { echo "tidy-check: $$m is not tidy: run go mod tidy in $$m" >&2; fail=1; }; \
	done; exit $$fail

# Go benchmarks of every module, then the thumbnailer's side-by-side
# table (stills-bench: libav decode vs Stills end to end vs the ffmpeg CLI).
bench: setup build bench-gateway
	$(TEST_ENV) go test -run '^$$' -bench . $(PKGS)
	$(MAKE) bench-thumbnailer

# The gateway against bare net/http and nginx under wrk, over a 10M-entry
# index (needs wrk and nginx: deploy/setup-bench.sh). One table.
bench-gateway:
	@deploy/setup-bench.sh
	CGO_ENABLED=0 go run ./services/gateway/cmd/stills-gateway-bench $(BENCH_GATEWAY_FLAGS)

bench-thumbnailer: setup
	CGO_ENABLED=1 go build -o bin/stills-bench ./services/thumbnailer/cmd/stills-bench
	bin/stills-bench

# 100,000 decode+JPEG thumbnails, RSS before / at 10% / after.
SOAK ?= 100000
bench-soak: setup
	CGO_ENABLED=1 go build -o bin/stills-bench ./services/thumbnailer/cmd/stills-bench
	bin/stills-bench -soak $(SOAK)

clean:
	rm -rf bin
