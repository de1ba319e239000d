# bitfab: Brevitas/QONNX -> bit-exact FPGA dataflow designs.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
MODEL   ?= cnv-w1a1
BOARD   ?= pynq-z2
OUT     ?= build/$(MODEL)-$(BOARD)
VERIFY  ?= 100
ARGS    ?=

.PHONY: install test test-all build verify rtlsim synth run bitstream bench lint format clean

$(BIN)/bitfab: pyproject.toml setup.py
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned, so nothing pulls a CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,cluster]'
	touch $@

install: $(BIN)/bitfab

test: install
	$(BIN)/pytest -q -n 2 --durations=25

test-all: install
	$(BIN)/pytest -q -n 2 -m ''

build: install
	$(BIN)/bitfab build $(MODEL) --board $(BOARD) --out $(OUT) --verify $(VERIFY) $(ARGS)

verify: install
	$(BIN)/bitfab verify $(OUT) --n $(VERIFY)

rtlsim: install
	$(BIN)/bitfab rtlsim $(OUT) --n 20

synth: install
	$(BIN)/bitfab synth $(OUT)

run: install
	$(BIN)/bitfab run $(OUT) --backend csim --batch 256

bitstream: build
	$(BIN)/bitfab bitstream $(OUT)

bench: install
	$(BIN)/python bench/csim_vs_executor.py --model $(MODEL)

PYSRC   := flows models boards tests bench setup.py
CXXSRC   = $(shell find hls -name '*.hpp' -o -name '*.cpp')

lint: install
	$(BIN)/ruff check $(PYSRC)
	$(BIN)/ruff format --check $(PYSRC)
	$(BIN)/clang-format --dry-run --Werror $(CXXSRC)

format: install
	$(BIN)/ruff format $(PYSRC)
	$(BIN)/ruff check --fix $(PYSRC)
	$(BIN)/clang-format -i $(CXXSRC)

clean:
	rm -rf build
