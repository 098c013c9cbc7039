# The README's two commands: `make demo` and `make test`. Each sets up .venv from scratch when needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CMAKE ?= cmake
JOBS ?= $(shell nproc)
# Anything that changes the native build or the package forces a reinstall.
SOURCES := pyproject.toml CMakeLists.txt $(shell find cpp wayvert cmake -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cu' -o -name '*.inc' -o -name '*.py' -o -name '*.in' \) 2>/dev/null)

.PHONY: demo test cpp-test asan-test py-test bench results engine clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/activate $(SOURCES)
	$(PY) -m pip install --quiet --disable-pip-version-check ".[dev,train,bench]"
	touch $@

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check ".[dev,train,bench]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/wayvert demo

# C++ unit tests (ctest), the same tests under ASan+UBSan, then pytest.
test: cpp-test asan-test py-test

cpp-test:
	$(CMAKE) -S . -B _build/cpp -G Ninja -DCMAKE_BUILD_TYPE=Release -DWAYVERT_BUILD_TESTS=ON -DWAYVERT_CUDA=AUTO > build-cpp.log 2>&1 || (cat build-cpp.log; exit 1)
	$(CMAKE) --build _build/cpp -j $(JOBS)
	cd _build/cpp && ctest --output-on-failure -j $(JOBS)

asan-test:
	$(CMAKE) -S . -B _build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWAYVERT_BUILD_TESTS=ON -DWAYVERT_CUDA=OFF -DWAYVERT_SANITIZE=ON > build-asan.log 2>&1 || (cat build-asan.log; exit 1)
	$(CMAKE) --build _build/asan -j $(JOBS)
	cd _build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

py-test: $(VENV)/.installed
	$(VENV)/bin/pytest -q tests

bench: $(VENV)/.bench-installed
	mkdir -p _build
	$(VENV)/bin/pytest -q benches --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=name --benchmark-json=_build/bench.json
	$(PY) benches/report.py _build/bench.json --plot benches/report.png > benches/REPORT.md
	@echo 'wrote benches/REPORT.md and benches/report.png'

# The documented default training run (docs/training.md): data, teacher, student, ablations, evaluation;
# then the shipped reference engine (docs/calibration.md). Each stage is a file, so a stage reruns only when missing.
RUN := runs/default
WV := $(VENV)/bin/wayvert
$(RUN)/data/train/.done: | $(VENV)/.installed
	$(WV) generate $(RUN)/data/train --episodes 80 --duration 30 --seed 1000 --bad-dreams-fraction 0.3 && touch $@
$(RUN)/data/val/.done: | $(VENV)/.installed
	$(WV) generate $(RUN)/data/val --episodes 10 --duration 30 --seed 9000 --bad-dreams-fraction 0 && touch $@
$(RUN)/data/train_lht/.done: | $(VENV)/.installed
	$(WV) generate $(RUN)/data/train_lht --episodes 40 --duration 30 --seed 5000 --bad-dreams-fraction 0.3 --left-hand && touch $@
$(RUN)/teacher/model.pt: $(RUN)/data/train/.done $(RUN)/data/val/.done
	$(WV) train --config training/configs/teacher.toml
$(RUN)/student/model.pt: $(RUN)/teacher/model.pt
	$(WV) distill --config training/configs/student.toml
$(RUN)/student_no_bad_dreams/model.pt: $(RUN)/teacher/model.pt
	$(WV) distill --config training/configs/student.toml --set data.bad_dreams=false --out $(RUN)/student_no_bad_dreams
$(RUN)/student_lht/model.pt: $(RUN)/data/train_lht/.done
	$(WV) train --config training/configs/student_lht.toml

results: $(RUN)/student/model.pt $(RUN)/student_no_bad_dreams/model.pt $(RUN)/student_lht/model.pt
	$(WV) eval --data $(RUN)/data/val --routes 10 --model teacher=$(RUN)/teacher/model.pt \
	  --model student=$(RUN)/student/model.pt --model "student, no bad dreams=$(RUN)/student_no_bad_dreams/model.pt" \
	  --model "student trained on left-hand traffic=$(RUN)/student_lht/model.pt" \
	  --json $(RUN)/results.json --markdown $(RUN)/results.md

# The reference engine shipped in the package (the demo's): the default student, entropy-calibrated, gated.
engine: $(RUN)/student/model.pt
	$(WV) calibrate $(RUN)/student/model.pt --data $(RUN)/data/train --val $(RUN)/data/val --method entropy \
	  --profile orin-class-75w -o wayvert/data/reference.wvrt --report $(RUN)/calibration/entropy

clean:
	rm -rf _build .skbuild $(VENV) build-cpp.log build-asan.log demo_out
