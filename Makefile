# CleanRoom — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
CONFIG ?= Release
DOTNET ?= dotnet
ROWS ?= 100000
OUT := bin/$(CONFIG)/net10.0
SERVER_DLL := src/CleanRoom.Server/$(OUT)/cleanroom-server.dll
ENCLAVE_DLL := enclave/CleanRoom.Enclave/$(OUT)/cleanroom-enclave.dll
CLI_DLL := src/CleanRoom.Cli/$(OUT)/cleanroom.dll
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

.PHONY: all build demo test bench clean

all: build

build:
	$(DOTNET) build CleanRoom.sln -c $(CONFIG) -nologo -v quiet

# The main job end to end on the embedded default (SQLite + local blobs), simulated attestation.
demo: build
	$(DOTNET) $(CLI_DLL) demo --rows $(ROWS) --out demo-output \
	  --server-bin $(SERVER_DLL) --enclave-bin $(ENCLAVE_DLL) --policies attestation-policies

# The whole test suite; TRX results land in TestResults/.
test:
	rm -rf TestResults
	$(DOTNET) build CleanRoom.sln -c $(CONFIG) -nologo -v quiet
	$(DOTNET) test CleanRoom.sln -c $(CONFIG) --no-build -nologo \
	  --logger "trx" --results-directory TestResults -- RunConfiguration.MaxCpuCount=1

# Figures, not timed tests.
bench:
	$(DOTNET) run --project tests/CleanRoom.Benchmarks -c Release -- $(BENCH_ARGS)

clean:
	$(DOTNET) clean CleanRoom.sln -nologo -v quiet
	rm -rf TestResults demo-output bench-output
