# moesim — build, demo and test.
#
#   make demo   build (release) and run the main job on the bundled trace
#   make test   build and run the test suite (and a short seeded fuzzer pass)
#   make fuzz   run the fuzzer's targets for FUZZ_SECONDS each
#   make test-slurm   submit the demo sweep to a real local Slurm (slurmctld + slurmd) and check it
#
# Both install the system libraries they need (libsqlite3-dev, libzstd-dev, pkg-config)
# when they are missing and we are root or have sudo; `make test` also installs Chromium
# (the report is rendered in it) and makes a Python venv in .build-py/ with what the
# notebook export and the trace recorder need (their requirements.txt files), and runs
# the recorder's Python tests after the Swift ones.

SWIFT ?= swift
SHARED ?= ../shared/traces
MOESIM = .build/release/moesim
DEMO_TRACE = traces/demo.sqlite
APT_PACKAGES = libsqlite3-dev libzstd-dev pkg-config g++
APT_TEST_PACKAGES = chromium
PYTHON ?= python3
VENV = .build-py/venv
PY_REQUIREMENTS = notebooks-export/requirements.txt traces/record/requirements.txt

.PHONY: demo test test-slurm bench-process test-deps test-recorder fuzz fuzz-smoke apt-install build release deps bench notebook-example notebook-check demo-trace hardware-files policy-files engine-files kernels kernels-swift clean

deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

apt-install:
	@missing=""; \
	for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	    echo "missing packages:$$missing — install them (apt-get install$$missing)"; exit 1; fi; \
	  echo "installing$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product moesim

demo: release
	$(MOESIM) trace info $(DEMO_TRACE)
	@echo
	@echo "== on-demand without a cache (double-buffered streaming) on the RTX A6000 preset"
	$(MOESIM) simulate --trace $(DEMO_TRACE) --hardware rtx-a6000 --policy on-demand
	@echo
	@echo "== on-demand with and without an expert cache (2 GiB is below one token's 2.5 GiB cycle of all layers: the LRU cliff)"
	@$(MOESIM) simulate --trace $(DEMO_TRACE) --hardware rtx-a6000 --json > .build/demo-1.json
	@$(MOESIM) simulate --trace $(DEMO_TRACE) --hardware rtx-a6000 --cache-mib 2048 --eviction lru --json > .build/demo-2.json
	@$(MOESIM) simulate --trace $(DEMO_TRACE) --hardware rtx-a6000 --cache-mib 8192 --eviction lru --json > .build/demo-3.json
	@$(MOESIM) simulate --trace $(DEMO_TRACE) --hardware rtx-a6000 --cache-mib 8192 --eviction s3fifo --json > .build/demo-4.json
	@$(MOESIM) simulate --trace $(DEMO_TRACE) --hardware rtx-a6000 --cache-mib 8192 --eviction belady --json > .build/demo-5.json
	$(MOESIM) table .build/demo-1.json .build/demo-2.json .build/demo-3.json .build/demo-4.json .build/demo-5.json
	@echo
	@echo "== every named policy on the same 8 GiB cache (see policies/)"
	$(MOESIM) compare --trace $(DEMO_TRACE) --hardware rtx-a6000 --cache-mib 8192

# The test dependencies (Chromium, the Python venv: mostly downloads) install while the
# Swift tests build; their log is shown once both are done.
test: deps
	@mkdir -p .build-py; \
	$(MAKE) --no-print-directory test-deps > .build-py/test-deps.log 2>&1 & deps=$$!; \
	$(SWIFT) build --build-tests; built=$$?; \
	wait $$deps; installed=$$?; cat .build-py/test-deps.log; \
	[ $$installed = 0 ] || { echo "installing the test dependencies failed (log above)"; exit 1; }; \
	exit $$built
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(SWIFT) test --parallel
	$(MAKE) --no-print-directory test-recorder
	$(MAKE) --no-print-directory fuzz-smoke

# A real Slurm on this machine (Tests/Slurm/slurm-test.sh: installs slurm-wlm and munge,
# starts munged, slurmctld and slurmd from a generated slurm.conf, submits the demo sweep with
# `moesim sweep --slurm --submit`, cancels a task and resubmits; skips only where the daemons
# cannot start). Uses the release binary: the debug one takes ~11 min for the 96 points here.
test-slurm: release
	MOESIM=$(CURDIR)/$(MOESIM) Tests/Slurm/slurm-test.sh

# The fuzzer (Fuzz/, a separate package built with -sanitize=fuzzer into .build-fuzz):
# `fuzz` runs every target for FUZZ_SECONDS in parallel and lists crashes; `fuzz-smoke`
# runs FUZZ_RUNS inputs per target from seed 1 and fails on any crash (part of `make test`).
FUZZ_SECONDS ?= 600
FUZZ_RUNS ?= 2000
fuzz: deps
	Fuzz/fuzz.sh build release
	Fuzz/fuzz.sh corpus release
	Fuzz/fuzz.sh run release $(FUZZ_SECONDS)

fuzz-smoke: deps
	Fuzz/fuzz.sh build debug
	Fuzz/fuzz.sh corpus debug
	Fuzz/fuzz.sh smoke debug $(FUZZ_RUNS)

test-deps: $(VENV)/installed
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_TEST_PACKAGES)"

$(VENV)/installed: $(PY_REQUIREMENTS)
	@$(PYTHON) -m venv $(VENV) || { echo "cannot make a Python venv with $(PYTHON): install python3-venv or set PYTHON=..."; exit 1; }
	@# A CPU-only torch wheel, where the machine keeps one, saves the CUDA build's 3 GB of downloads.
	-@[ -d /opt/wheels ] && $(VENV)/bin/pip install -q --no-index --find-links /opt/wheels torch 2>/dev/null
	$(VENV)/bin/pip install -q $(foreach r,$(PY_REQUIREMENTS),-r $(r))
	touch $@

# The trace recorder's tests (tiny random transformers models on CPU, read back by moesim).
test-recorder: $(VENV)/installed
	$(SWIFT) build --product moesim
	cd traces/record && MOESIM=$(CURDIR)/.build/debug/moesim PYTHONPATH=.:tests ../../$(VENV)/bin/python -m unittest discover -s tests

# Sweeps the bundled demo trace and exports, then runs, the example notebook checked in
# under notebooks-export/ (a test keeps its cells equal to a fresh export).
notebook-example: release $(VENV)/installed
	rm -f notebooks-export/demo-sweep.sqlite
	$(MOESIM) sweep traces/demo-sweep.toml -o notebooks-export/demo-sweep.sqlite --jobs 2
	$(MOESIM) export notebook notebooks-export/demo-sweep.sqlite -o notebooks-export/demo-sweep.ipynb
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace notebooks-export/demo-sweep.ipynb

# Runs the checked-in example notebook against its database (without changing it).
notebook-check: $(VENV)/installed
	$(VENV)/bin/jupyter nbconvert --to notebook --execute notebooks-export/demo-sweep.ipynb --output-dir .build-py/notebook-check

# Regenerates the bundled demo trace from the real ESFT trace in ../shared.
demo-trace: release
	$(MOESIM) trace import --format esft $(SHARED)/esft-deepseek-v2-lite -o .build/esft.sqlite
	$(MOESIM) trace synth --model deepseek-v2-lite --like .build/esft.sqlite --tokens 6144 --prefill 64 --decode 192 --seed 7 --level 19 -o $(DEMO_TRACE)

# Rewrites hardware/*.toml from the built-in presets (a test checks they agree).
hardware-files: release
	for name in $$($(MOESIM) hardware | tail -n +2 | cut -d' ' -f1); do \
	  $(MOESIM) hardware --export $$name > hardware/$$name.toml; done

# Rewrites policies/*.toml from the named policies (a test checks they agree).
policy-files: release
	for name in $$($(MOESIM) policies | tail -n +2 | cut -d' ' -f1); do \
	  $(MOESIM) policies --export $$name > policies/$$name.toml; done

# Rewrites engines/*.toml from the built-in engine models (a test checks they agree).
engine-files: release
	mkdir -p engines
	for name in $$($(MOESIM) engines | tail -n +2 | cut -d' ' -f1); do \
	  $(MOESIM) engines --export $$name > engines/$$name.toml; done

bench: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark
	$(MAKE) --no-print-directory bench-process

# Whole-process figures (issue 17): replay, import and synthesis as a user runs them.
bench-process: release
	Benchmarks/whole-process.sh $(CURDIR)/$(MOESIM)

clean:
	rm -rf .build

# Recompiles the GPU kernels to PTX and regenerates the Swift string that embeds it (a test
# keeps the two equal). Needs CUDA 13.0's nvcc and ptxas: a CUDA machine's, or the pip wheels
# nvidia-cuda-nvcc==13.0.88, nvidia-nvvm==13.0.88, nvidia-cuda-crt, nvidia-cuda-runtime and
# nvidia-cuda-cccl in a virtual environment outside the repository, with
# CUDA_BIN=.../site-packages/nvidia/cu13/bin/ (a newer nvidia-nvvm writes a PTX ISA that
# 13.0's ptxas and drivers refuse). ptxas assembles the PTX for sm_80 and sm_90 as a check.
KERNELS = Sources/CUDABackend/Kernels
CUDA_BIN ?= $(dir $(shell command -v nvcc))
kernels:
	$(CUDA_BIN)nvcc -ptx -arch=compute_80 -O3 $(KERNELS)/moesim_kernels.cu -o $(KERNELS)/moesim_kernels.ptx
	for arch in sm_80 sm_90; do $(CUDA_BIN)ptxas -arch=$$arch $(KERNELS)/moesim_kernels.ptx -o /dev/null || exit 1; done
	$(MAKE) kernels-swift

kernels-swift:
	{ printf '// Generated from moesim_kernels.ptx by `make kernels`; a test keeps the two equal.\nextension MoesimKernels {\n    /// The PTX of moesim_kernels.cu (nvcc 13.0, -arch=compute_80 -O3).\n    static let ptx = #"""\n'; \
	  cat $(KERNELS)/moesim_kernels.ptx; printf '\n"""#\n}\n'; } > "$(KERNELS)/MoesimKernels+PTX.swift"
