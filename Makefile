# The README's two commands: `make demo` and `make test`. Each sets up .venv from scratch when needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CMAKE ?= cmake
JOBS ?= $(shell nproc)
# Anything that changes the native build or the package forces a reinstall.
SOURCES := pyproject.toml CMakeLists.txt $(shell find cpp wayvert cmake -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cu' -o -name '*.inc' -o -name '*.py' -o -name '*.in' \) 2>/dev/null)

.PHONY: flywheel scenario scenario-filter reference-filter reference-filter-eval curate-by-filter demo test cpp-test asan-test tsan-test aarch64-test fuzz fuzz-smoke fuzz-build soak py-test bench results engine select clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/activate $(SOURCES)
	$(PY) -m pip install --quiet --disable-pip-version-check ".[dev,train,bench,data]"
	touch $@

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check ".[dev,train,bench,data]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/wayvert demo

# C++ unit tests (ctest), the same tests under ASan+UBSan, the same tests cross-built for aarch64 under qemu, then pytest.
test: cpp-test asan-test tsan-test aarch64-test fuzz-smoke py-test

cpp-test:
	$(CMAKE) -S . -B _build/cpp -G Ninja -DCMAKE_BUILD_TYPE=Release -DWAYVERT_BUILD_TESTS=ON -DWAYVERT_CUDA=AUTO > build-cpp.log 2>&1 || (cat build-cpp.log; exit 1)
	$(CMAKE) --build _build/cpp -j $(JOBS)
	cd _build/cpp && ctest --output-on-failure -j $(JOBS)

asan-test:
	$(CMAKE) -S . -B _build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWAYVERT_BUILD_TESTS=ON -DWAYVERT_CUDA=OFF -DWAYVERT_SANITIZE=ON > build-asan.log 2>&1 || (cat build-asan.log; exit 1)
	$(CMAKE) --build _build/asan -j $(JOBS)
	cd _build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# The C++ tests under ThreadSanitizer, test_stress among them (8 sessions on one engine in 8 threads, engines loaded
# and released meanwhile, verifiers and sensor adapters in parallel). About 2 minutes on 2 cores, build included.
tsan-test:
	$(CMAKE) -S . -B _build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWAYVERT_BUILD_TESTS=ON -DWAYVERT_CUDA=OFF -DWAYVERT_TSAN=ON > build-tsan.log 2>&1 || (cat build-tsan.log; exit 1)
	$(CMAKE) --build _build/tsan -j $(JOBS)
	cd _build/tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest --output-on-failure -j $(JOBS)

# Coverage-guided fuzzing with libFuzzer (cpp/fuzz): the engine loader + session + run, the verifier's C entry point,
# the sensor adapter's rig structs and frames; ASan + UBSan on. `make fuzz` runs each harness FUZZ_SECONDS (default
# 120 s: 1-3 million executions each on this project's 2-core machine) and prints executions and crashes; `make test`
# runs the same for FUZZ_SMOKE_SECONDS each (8 s). A crash's input lands in _build/fuzz-work/crashes/; copy it to
# cpp/fuzz/regressions/<harness>/ with the fix, and every later run replays it. clang is installed when missing.
FUZZ_BUILD := _build/fuzz
FUZZ_SECONDS ?= 120
FUZZ_SMOKE_SECONDS ?= 8

# Debian's clang package leaves the sanitizer and libFuzzer runtimes to libclang-rt-<major>-dev: a fresh machine
# with clang but without them fails to link, so a one-line probe decides whether that package is installed too.
FUZZ_PROBE = printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' | \
  clang++ -x c++ - -fsanitize=fuzzer,address,undefined -o $(FUZZ_BUILD)-probe >/dev/null 2>&1

fuzz-build:
	@set -e; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	APT="$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get"; \
	apt_install() { \
	  if ! command -v apt-get >/dev/null 2>&1; then echo "fuzz: $$* missing and there is no apt-get to install it"; exit 1; fi; \
	  echo "fuzz: installing $$*"; \
	  { $$APT install -y --no-install-recommends "$$@" || { $$APT update && $$APT install -y --no-install-recommends "$$@"; }; } >> build-fuzz.log 2>&1 \
	    || { cat build-fuzz.log; echo "fuzz: apt-get could not install $$*"; exit 1; }; \
	}; \
	: > build-fuzz.log; mkdir -p $(dir $(FUZZ_BUILD)); \
	if ! command -v clang++ >/dev/null 2>&1; then apt_install clang; fi; \
	if ! $(FUZZ_PROBE); then apt_install "libclang-rt-$$(clang++ -dumpversion | cut -d. -f1)-dev"; fi; \
	$(FUZZ_PROBE) || { echo "fuzz: clang++ cannot link -fsanitize=fuzzer,address,undefined (see build-fuzz.log)"; exit 1; }; \
	CC=clang CXX=clang++ $(CMAKE) -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWAYVERT_BUILD_TESTS=OFF \
	  -DWAYVERT_CUDA=OFF -DWAYVERT_FUZZ=ON >> build-fuzz.log 2>&1 || { cat build-fuzz.log; exit 1; }; \
	$(CMAKE) --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: fuzz-build
	cpp/fuzz/run.sh $(FUZZ_BUILD) _build/fuzz-work $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	rm -rf _build/fuzz-smoke
	cpp/fuzz/run.sh $(FUZZ_BUILD) _build/fuzz-smoke $(FUZZ_SMOKE_SECONDS)

# aarch64 is the target SoC's CPU. Cross-build the C++ tests with Debian's g++-aarch64-linux-gnu
# (cmake/aarch64-linux-gnu.cmake, which makes ctest run every test through qemu-aarch64) and run them once per int8
# micro-kernel path, each chosen by the CPU qemu emulates:
#   QEMU_CPU=max                      dotprod and i8mm: smmla is selected; test_qgemm must check all three NEON kernels
#   QEMU_CPU=max WAYVERT_ISA=neondot  sdot is selected
#   QEMU_CPU=cortex-a57               plain ARMv8.0: smlal is selected, and the sdot and smmla kernels must report
#                                     themselves skipped (hwcaps), not die of SIGILL
# The first run is the whole suite. The other two leave out $(AARCH64_SAME_ON_EVERY_CPU): test_camera_model (float
# camera math, ~45 s of the ~50 s under qemu) and test_gemm (the fp32 NEON GEMM, which needs nothing beyond
# ARMv8.0): neither depends on the emulated CPU's extensions, so running them again would only cost time.
# The tools are installed when missing (sudo only when not root); where that cannot be done, one line says why and
# the target succeeds. 1.5-2.5 minutes on 2 cores, build included (about one minute of it the qemu runs).
AARCH64_BUILD := _build/aarch64
AARCH64_PKGS := g++-aarch64-linux-gnu qemu-user
AARCH64_SAME_ON_EVERY_CPU := test_camera_model|test_gemm

aarch64-test:
	@set -e; \
	if ! command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || ! command -v qemu-aarch64 >/dev/null 2>&1; then \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "aarch64-test: skipped: $(AARCH64_PKGS) are missing and there is no apt-get to install them"; exit 0; fi; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "aarch64-test: skipped: $(AARCH64_PKGS) are missing and installing them needs root (sudo apt-get install $(AARCH64_PKGS))"; exit 0; fi; \
	  echo "aarch64-test: installing $(AARCH64_PKGS)"; \
	  APT="$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get"; \
	  if ! { $$APT install -y --no-install-recommends $(AARCH64_PKGS) || \
	         { $$APT update && $$APT install -y --no-install-recommends $(AARCH64_PKGS); }; } > build-aarch64.log 2>&1; then \
	    echo "aarch64-test: skipped: apt-get could not install $(AARCH64_PKGS) (see build-aarch64.log)"; exit 0; fi; \
	fi; \
	$(CMAKE) -S . -B $(AARCH64_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
	  -DWAYVERT_BUILD_TESTS=ON -DWAYVERT_CUDA=OFF > build-aarch64.log 2>&1 || { cat build-aarch64.log; exit 1; }; \
	$(CMAKE) --build $(AARCH64_BUILD) -j $(JOBS); \
	cd $(AARCH64_BUILD); \
	run() { \
	  cpu=$$1; isa=$$2; skip=$$3; shift 3; log=qemu-$$cpu$${isa:+-$$isa}.log; \
	  echo "aarch64-test: QEMU_CPU=$$cpu$${isa:+ WAYVERT_ISA=$$isa}"; \
	  env -u WAYVERT_ISA QEMU_CPU=$$cpu $${isa:+WAYVERT_ISA=$$isa} ctest --output-on-failure -j $(JOBS) -E "^(test_qgemm$$skip)$$"; \
	  env -u WAYVERT_ISA QEMU_CPU=$$cpu $${isa:+WAYVERT_ISA=$$isa} ctest -V -R '^test_qgemm$$' > $$log 2>&1 || { cat $$log; exit 1; }; \
	  for want in "$$@"; do \
	    grep -Eq "$$want" $$log || { cat $$log; echo "aarch64-test: QEMU_CPU=$$cpu: test_qgemm did not print /$$want/"; exit 1; }; \
	  done; \
	  grep -E '(checked|skip|selected:?) qs8_igemm' $$log | sed 's/^[0-9]*: /  /'; \
	}; \
	run max '' '' 'checked qs8_igemm_[^ ]*_i8mm$$' 'checked qs8_igemm_[^ ]*_neondot$$' 'checked qs8_igemm_[^ ]*_neon$$' \
	  'selected: qs8_igemm_[^ ]*_i8mm$$'; \
	run max neondot '|$(AARCH64_SAME_ON_EVERY_CPU)' 'selected: qs8_igemm_[^ ]*_neondot$$'; \
	run cortex-a57 '' '|$(AARCH64_SAME_ON_EVERY_CPU)' 'skip qs8_igemm_[^ ]*_i8mm:' 'skip qs8_igemm_[^ ]*_neondot:' \
	  'checked qs8_igemm_[^ ]*_neon$$' 'selected: qs8_igemm_[^ ]*_neon$$'

# Soak (not in make test): the reference engine 1,000,000 times in one session, resident memory flat within 1 MiB
# after warm-up and the last outputs equal to the first (about 7-12 minutes here), then the tests marked slow.
soak: $(VENV)/.installed
	mkdir -p _build && cd _build && ../$(PY) -m wayvert.benchmark.soak --runs 1000000
	$(VENV)/bin/pytest -q -m slow tests

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
# Slow starts (docs/training.md): 24 more episodes whose ego starts at 0.2-0.8 of its desired speed, so the data
# holds the expert speeding back up; the teacher and the student train on them with data/train (their configs'
# data.aggregate).
$(RUN)/data/slow_starts/.done: | $(VENV)/.installed
	$(WV) generate $(RUN)/data/slow_starts --episodes 24 --duration 30 --seed 3000 --bad-dreams-fraction 0.3 \
	  --start-speed 0.2,0.8 && touch $@
$(RUN)/data/train_lht/.done: | $(VENV)/.installed
	$(WV) generate $(RUN)/data/train_lht --episodes 40 --duration 30 --seed 5000 --bad-dreams-fraction 0.3 --left-hand && touch $@
$(RUN)/teacher/model.pt: $(RUN)/data/train/.done $(RUN)/data/val/.done $(RUN)/data/slow_starts/.done
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

# The reference engine shipped in the package (the demo's) is chosen by its closed-loop figure, never the open-loop
# one: `make select` drives each candidate's engine through the deployed stack (rig, adapter, engine, verifier with
# the run-time repair, tracker) on SELECT_ROUTES selection routes (80000.., never the evaluation routes 70000..) of the
# nuScenes-like rig and SELECT_RIG_ROUTES of each other shipped rig, and `make engine` copies the candidate with
# the fewest incidents through every rig, then the most progress against the expert, into wayvert/data/reference.wvrt.
# Candidates: "shipped" (the engine in the package now), "default" (the default run's student, entropy-calibrated
# and gated on orin-class-75w) and, when added to SELECT_CANDIDATES, DAgger rounds r0..r2 (docs/training.md):
# round 0 is a student trained by imitation; in each round an engine drives DAGGER_ROUTES routes of its own, the
# expert labels every state it visits at 2 Hz, and the next student is trained on the expert's episodes plus every
# round's fork episodes.
DAGGER_ROUTES ?= 24
SELECT_ROUTES ?= 18
SELECT_RIG_ROUTES ?= 6
SELECT_OTHER_RIGS ?= fisheye_dashcam high_pitched_2cam ftheta_bayer_front
SELECT_CANDIDATES ?= shipped default
CALIBRATE = $(WV) calibrate $< --data $(RUN)/data/train --val $(RUN)/data/val --method entropy --profile orin-class-75w
$(RUN)/engines/default.wvrt: $(RUN)/student/model.pt
	mkdir -p $(@D)
	$(CALIBRATE) -o $@ --report $(RUN)/calibration/entropy
$(RUN)/engines/shipped.wvrt:
	mkdir -p $(@D)
	cp wayvert/data/reference.wvrt $@
$(RUN)/student_dagger/r0/model.pt: $(RUN)/data/train/.done $(RUN)/data/val/.done
	$(WV) train --config training/configs/student_dagger.toml --out $(@D)
$(RUN)/engines/r%.wvrt: $(RUN)/student_dagger/r%/model.pt
	mkdir -p $(@D)
	$(CALIBRATE) -o $@ --report $(RUN)/calibration/dagger_r$*
$(RUN)/data/dagger/r1/dagger.json: $(RUN)/engines/r0.wvrt
	$(WV) dagger $< -o $(@D) --round 1 --routes $(DAGGER_ROUTES)
$(RUN)/student_dagger/r1/model.pt: $(RUN)/data/dagger/r1/dagger.json
	$(WV) train --config training/configs/student_dagger.toml --out $(@D) --set "data.aggregate=['$(RUN)/data/dagger/r1']"
$(RUN)/data/dagger/r2/dagger.json: $(RUN)/engines/r1.wvrt
	$(WV) dagger $< -o $(@D) --round 2 --routes $(DAGGER_ROUTES)
$(RUN)/student_dagger/r2/model.pt: $(RUN)/data/dagger/r2/dagger.json
	$(WV) train --config training/configs/student_dagger.toml --out $(@D) \
	  --set "data.aggregate=['$(RUN)/data/dagger/r1', '$(RUN)/data/dagger/r2']"
$(RUN)/select/%.json: $(RUN)/engines/%.wvrt
	mkdir -p $(@D)
	$(WV) eval --engine $< --routes $(SELECT_ROUTES) --seed 80000 --expert-every 0 --workers 2 --quiet --json $@ > /dev/null
	for rig in $(SELECT_OTHER_RIGS); do $(WV) eval --engine $< --rig $$rig --routes $(SELECT_RIG_ROUTES) --seed 80000 \
	  --expert-every 0 --workers 2 --quiet --json $(RUN)/select/$*.$$rig.json > /dev/null || exit 1; done

# `make select SELECT_CANDIDATES="shipped default r0 r1 r2"` adds the DAgger rounds (about 70 minutes more).
select: $(SELECT_CANDIDATES:%=$(RUN)/select/%.json)
	$(PY) -m wayvert.closed_loop.selection $(RUN)/select $(SELECT_CANDIDATES)

# The winner: fewest collisions and lane departures summed over every shipped rig, then the most progress on the
# main rig (wayvert/closed_loop/selection.py).
engine: select
	@best=$$($(PY) -m wayvert.closed_loop.selection $(RUN)/select $(SELECT_CANDIDATES) 2>/dev/null); \
	  echo "shipping $$best"; cp $(RUN)/engines/$$best.wvrt wayvert/data/reference.wvrt

# The data flywheel, end to end (docs/curation.md): a generated pool indexed by the shipped engine, a coverage report,
# targeted data for what it finds short (injected cut-ins, left-hand traffic, junctions), the index resumed over them, then a curriculum
# chosen by `wayvert curate` (classes by the engine's head, and by the recorded labels) against a uniform sample of
# the same size; each trains the default student config,
# are calibrated like the default run, driven on the 20 held-out routes (70000..) and indexed on held-out frames
# (95000.., labelled) for the scenario head's confusion table. About 2 hours on 2 cores.
FLY := runs/flywheel
FLY_ROUTES ?= 20
$(FLY)/pool/.natural: | $(VENV)/.installed
	$(WV) generate $(FLY)/pool --episodes 320 --duration 30 --seed 100000 --bad-dreams-fraction 0.3 --quiet && touch $@
$(FLY)/coverage-before.md: $(FLY)/pool/.natural
	$(WV) index $(FLY)/pool --engine wayvert/data/reference.wvrt -o $(FLY)/pool.index --quiet
	$(WV) curate $(FLY)/pool.index --require examples/curriculum.toml -o $(FLY)/before.csv --report $@
$(FLY)/pool/.targeted: $(FLY)/coverage-before.md
	$(WV) generate $(FLY)/pool --episodes 40 --duration 30 --seed 110000 --bad-dreams-fraction 0.3 --lanes 3 \
	  --cut-in-rate 12 --quiet
	$(WV) generate $(FLY)/pool --episodes 20 --duration 30 --seed 120000 --bad-dreams-fraction 0.3 --left-hand --quiet
	$(WV) generate $(FLY)/pool --episodes 30 --duration 50 --seed 130000 --bad-dreams-fraction 0.3 --junction \
	  --quiet && touch $@
$(FLY)/curated.csv: $(FLY)/pool/.targeted
	$(WV) index $(FLY)/pool --engine wayvert/data/reference.wvrt -o $(FLY)/pool.index --quiet
	$(WV) curate $(FLY)/pool.index --require examples/curriculum.toml -o $@ --report $(FLY)/coverage-curated.md
$(FLY)/curated_labels.csv: $(FLY)/curated.csv
	$(WV) curate $(FLY)/pool.index --require examples/curriculum_labels.toml -o $@ --report $(FLY)/coverage-labels.md
$(FLY)/uniform.csv: $(FLY)/curated.csv
	$(WV) curate $(FLY)/pool.index --require examples/uniform.toml -o $@ --report $(FLY)/coverage-uniform.md
# A held-out set of labelled episodes from seed S: 40 ordinary (S..), 10 with cut-ins (S+500..), 10 with junctions (S+600..).
define heldout_set
	$(WV) generate $(1) --episodes 40 --duration 30 --seed $(2) --bad-dreams-fraction 0 --quiet
	$(WV) generate $(1) --episodes 10 --duration 30 --seed $$(($(2) + 500)) --bad-dreams-fraction 0 --lanes 3 \
	  --cut-in-rate 12 --quiet
	$(WV) generate $(1) --episodes 10 --duration 50 --seed $$(($(2) + 600)) --bad-dreams-fraction 0 --junction --quiet
endef
$(FLY)/heldout/.done: | $(VENV)/.installed
	$(call heldout_set,$(FLY)/heldout,95000)
	touch $@
$(FLY)/student_%/model.pt: $(FLY)/%.csv $(RUN)/teacher/model.pt
	$(WV) distill --config training/configs/student_$*.toml --quiet
$(FLY)/student_scenario/model.pt: $(FLY)/curated_labels.csv $(RUN)/teacher/model.pt
	$(WV) distill --config training/configs/student_scenario.toml --quiet
$(FLY)/engines/%.wvrt: $(FLY)/student_%/model.pt
	mkdir -p $(@D)
	$(CALIBRATE) -o $@ --report $(FLY)/calibration/$*
$(FLY)/closedloop/%.json: $(FLY)/engines/%.wvrt
	mkdir -p $(@D)
	$(WV) eval --engine $< --routes $(FLY_ROUTES) --seed 70000 --expert-every 0 --workers 2 --quiet --json $@ \
	  --markdown $(FLY)/closedloop/$*.md > /dev/null
$(FLY)/heldout.%.index/index.json: $(FLY)/engines/%.wvrt $(FLY)/heldout/.done
	$(WV) index $(FLY)/heldout --engine $< -o $(@D) --overwrite --quiet

# The scenario branch (issue 18 item 5; docs/results.md, "Scenario head"): its own labelled pool (ordinary episodes
# and targeted cut-ins and junctions, seeds 140000-145079, never the held-out 95000..), trained on top of the default
# run's finished student (optim.train = "scenario": its driving outputs stay bit-identical), calibrated like it and
# indexed on the held-out frames; then the same with a second pool and mirror augmentation (stop 29). `make scenario`
# prints the confusion tables (default, branch, branch_mirror and branch_previous engines on three held-out sets, and
# branch_previous at 10 Hz).
# About 150 minutes on 2 cores.
$(FLY)/scenario_pool/.done: | $(VENV)/.installed
	$(WV) generate $(FLY)/scenario_pool --episodes 60 --duration 30 --seed 140000 --bad-dreams-fraction 0.2 --quiet
	$(WV) generate $(FLY)/scenario_pool --episodes 20 --duration 30 --seed 141000 --bad-dreams-fraction 0.2 --lanes 3 \
	  --cut-in-rate 12 --quiet
	$(WV) generate $(FLY)/scenario_pool --episodes 20 --duration 50 --seed 142000 --bad-dreams-fraction 0.2 --junction --quiet
	$(WV) generate $(FLY)/scenario_pool --episodes 120 --duration 30 --seed 143000 --bad-dreams-fraction 0.2 --lanes 3 \
	  --cut-in-rate 20 --quiet
	$(WV) generate $(FLY)/scenario_pool --episodes 50 --duration 50 --seed 144000 --bad-dreams-fraction 0.2 --junction --quiet
	$(WV) generate $(FLY)/scenario_pool --episodes 80 --duration 30 --seed 145000 --bad-dreams-fraction 0.2 --quiet
	touch $@
$(FLY)/student_branch/model.pt: $(FLY)/scenario_pool/.done $(RUN)/student/model.pt
	$(WV) train --config training/configs/student_scenario_branch.toml --quiet
# Stop 29: two more pools (cut-in and junction heavy, seeds 146000-147039; 3-lane traffic, cut-ins, junctions,
# seeds 148000-150029) and mirror augmentation.
$(FLY)/scenario_pool2/.done: | $(VENV)/.installed
	$(WV) generate $(FLY)/scenario_pool2 --episodes 150 --duration 30 --seed 146000 --bad-dreams-fraction 0.2 --lanes 3 \
	  --cut-in-rate 20 --quiet
	$(WV) generate $(FLY)/scenario_pool2 --episodes 40 --duration 50 --seed 147000 --bad-dreams-fraction 0.2 --junction --quiet
	touch $@
$(FLY)/scenario_pool3/.done: | $(VENV)/.installed
	$(WV) generate $(FLY)/scenario_pool3 --episodes 80 --duration 30 --seed 148000 --bad-dreams-fraction 0.2 --lanes 3 --quiet
	$(WV) generate $(FLY)/scenario_pool3 --episodes 80 --duration 30 --seed 149000 --bad-dreams-fraction 0.2 --lanes 3 \
	  --cut-in-rate 20 --quiet
	$(WV) generate $(FLY)/scenario_pool3 --episodes 30 --duration 50 --seed 150000 --bad-dreams-fraction 0.2 --junction --quiet
	touch $@
$(FLY)/student_branch_mirror/model.pt: $(FLY)/scenario_pool/.done $(FLY)/scenario_pool2/.done $(FLY)/scenario_pool3/.done \
  $(RUN)/student/model.pt
	$(WV) train --config training/configs/student_scenario_branch_mirror.toml --quiet
# Stop 30: the mirrored branch also reading the previous frame set (model.scenario_previous_frame; the engine keeps
# it as recurrent state).
$(FLY)/student_branch_previous/model.pt: $(FLY)/student_branch_mirror/model.pt
	$(WV) train --config training/configs/student_scenario_previous_frame.toml --quiet
# A second held-out set, the same recipe at seeds 96000.. (generated after the branch was final; docs/results.md).
$(FLY)/heldout2/.done: | $(VENV)/.installed
	$(call heldout_set,$(FLY)/heldout2,96000)
	touch $@
$(FLY)/heldout2.%.index/index.json: $(FLY)/engines/%.wvrt $(FLY)/heldout2/.done
	$(WV) index $(FLY)/heldout2 --engine $< -o $(@D) --overwrite --quiet
# A third, three times larger (180 episodes, 12,000 frame sets, 330 cut-in frames): seeds 97000.., 98000.., 99000...
$(FLY)/heldout3/.done: | $(VENV)/.installed
	$(call heldout_set,$(FLY)/heldout3,97000)
	$(call heldout_set,$(FLY)/heldout3,98000)
	$(call heldout_set,$(FLY)/heldout3,99000)
	touch $@
$(FLY)/heldout3.%.index/index.json: $(FLY)/engines/%.wvrt $(FLY)/heldout3/.done
	$(WV) index $(FLY)/heldout3 --engine $< -o $(@D) --overwrite --quiet
# The same recipe at camera rate (10 Hz frame sets, seeds 94000..; 22 episodes): the scenario memory is trained at
# the stores' 2 Hz, this is what it does at the rate the vehicle runs the engine.
$(FLY)/heldout10hz/.done: | $(VENV)/.installed
	$(WV) generate $(FLY)/heldout10hz --episodes 12 --duration 30 --seed 94000 --bad-dreams-fraction 0 --frame-hz 10 --quiet
	$(WV) generate $(FLY)/heldout10hz --episodes 6 --duration 30 --seed 94500 --bad-dreams-fraction 0 --lanes 3 \
	  --cut-in-rate 12 --frame-hz 10 --quiet
	$(WV) generate $(FLY)/heldout10hz --episodes 4 --duration 50 --seed 94600 --bad-dreams-fraction 0 --junction \
	  --frame-hz 10 --quiet
	touch $@
$(FLY)/heldout10hz.%.index/index.json: $(FLY)/engines/%.wvrt $(FLY)/heldout10hz/.done
	$(WV) index $(FLY)/heldout10hz --engine $< -o $(@D) --overwrite --quiet
SCENARIO_INDEXES := $(foreach s,heldout heldout2 heldout3,$(foreach e,default branch branch_mirror branch_previous,$(FLY)/$(s).$(e).index/index.json)) \
  $(FLY)/heldout10hz.branch_previous.index/index.json
scenario: $(SCENARIO_INDEXES)
	for i in $(SCENARIO_INDEXES); do $(PY) -c "import sys; from wayvert.index import read_index, scenario_confusion as c, \
	  scenario_interval as ci; x = read_index(sys.argv[1]); m = c(x); \
	  print(sys.argv[1], 'balanced accuracy %.3f, 95%% interval over episodes [%.3f, %.3f]' % (m.balanced_accuracy, *ci(x))); \
	  print(m.markdown())" $$(dirname $$i) || exit 1; done
# The scenario over time (stops 31-32; docs/curation.md, wayvert/index/over_time.py): a linear filter over a window
# of an engine's outputs and route command, +-4 steps of 0.5 s, fitted on its own labelled set (filterfit: the
# held-out recipe at seeds 92000.. and 93000..: 120 episodes, 8,000 frame sets; nothing is trained or chosen on it)
# and measured on the held-out sets. `make scenario-filter` does it for the branch_mirror engine (a few minutes after `make scenario`);
# `make reference-filter` fits the filter shipped beside the reference engine (wayvert/data/).
$(FLY)/filterfit/.done: | $(VENV)/.installed
	$(call heldout_set,$(FLY)/filterfit,92000)
	$(call heldout_set,$(FLY)/filterfit,93000)
	touch $@
$(FLY)/filterfit.%.index/index.json: $(FLY)/engines/%.wvrt $(FLY)/filterfit/.done
	$(WV) index $(FLY)/filterfit --engine $< -o $(@D) --overwrite --quiet
$(FLY)/%.scenario-filter.json: $(FLY)/filterfit.%.index/index.json
	$(WV) scenario-filter fit $(FLY)/filterfit.$*.index --before 4 --after 4 -o $@
# A fourth held-out set (stop 32), the recipe at seeds 160000.., 161000.., 162000.. (180 episodes, 12,000 frame
# sets), generated before the version-2 filter was fitted and measured once, after it was chosen on the others.
$(FLY)/heldout4/.done: | $(VENV)/.installed
	$(call heldout_set,$(FLY)/heldout4,160000)
	$(call heldout_set,$(FLY)/heldout4,161000)
	$(call heldout_set,$(FLY)/heldout4,162000)
	touch $@
$(FLY)/heldout4.%.index/index.json: $(FLY)/engines/%.wvrt $(FLY)/heldout4/.done
	$(WV) index $(FLY)/heldout4 --engine $< -o $(@D) --overwrite --quiet
# The four 2 Hz sets are measured one by one and pooled; the 10 Hz set on its own.
FILTER_SETS := heldout heldout2 heldout3 heldout4
scenario-filter: $(FLY)/branch_mirror.scenario-filter.json \
  $(foreach s,$(FILTER_SETS) heldout10hz,$(FLY)/$(s).branch_mirror.index/index.json)
	$(WV) scenario-filter eval $(foreach s,$(FILTER_SETS),$(FLY)/$(s).branch_mirror.index) --filter $<
	$(WV) scenario-filter eval $(FLY)/heldout10hz.branch_mirror.index --filter $<
reference-filter: $(FLY)/filterfit/.done
	$(WV) index $(FLY)/filterfit --engine wayvert/data/reference.wvrt -o $(FLY)/filterfit.reference.index --overwrite --quiet
	$(WV) scenario-filter fit $(FLY)/filterfit.reference.index --before 4 --after 4 -o wayvert/data/reference.scenario-filter.json
# Stop 32 (docs/curation.md, "Curating by the filter's classes"): the flywheel's pool indexed by the shipped engine,
# its filter measured there, and four selections of 4,800 frames: uniform, by the engine's one-frame classes, by the
# filter's classes, by the recorded labels; each report counts its selection by the recorded labels.
$(FLY)/pool.reference.index/index.json: $(FLY)/pool/.targeted
	$(WV) index $(FLY)/pool --engine wayvert/data/reference.wvrt -o $(@D) --overwrite --quiet
SEL32 := $(FLY)/sel32
curate-by-filter: $(FLY)/pool.reference.index/index.json
	mkdir -p $(SEL32)
	$(WV) scenario-filter eval $(FLY)/pool.reference.index --filter wayvert/data/reference.scenario-filter.json
	$(WV) curate $(FLY)/pool.reference.index --require examples/uniform.toml -o $(SEL32)/uniform.csv --report $(SEL32)/uniform.md
	$(WV) curate $(FLY)/pool.reference.index --require examples/curriculum.toml -o $(SEL32)/head.csv --report $(SEL32)/head.md
	$(WV) curate $(FLY)/pool.reference.index --require examples/curriculum.toml -o $(SEL32)/filter.csv \
	  --report $(SEL32)/filter.md --scenario-filter wayvert/data/reference.scenario-filter.json
	$(WV) curate $(FLY)/pool.reference.index --require examples/curriculum_labels.toml -o $(SEL32)/labels.csv \
	  --report $(SEL32)/labels.md
# docs/results.md's figures for the shipped engine and filter (about 20 minutes on 2 cores, generation included).
$(FLY)/engines/reference.wvrt: wayvert/data/reference.wvrt
	mkdir -p $(@D)
	cp $< $@
reference-filter-eval: $(foreach s,$(FILTER_SETS) heldout10hz,$(FLY)/$(s).reference.index/index.json)
	$(WV) scenario-filter eval $(foreach s,$(FILTER_SETS),$(FLY)/$(s).reference.index) \
	  --filter wayvert/data/reference.scenario-filter.json
	$(WV) scenario-filter eval $(FLY)/heldout10hz.reference.index --filter wayvert/data/reference.scenario-filter.json
$(FLY)/engines/default.wvrt: $(RUN)/engines/default.wvrt
	mkdir -p $(@D)
	cp $< $@

$(FLY)/student_pool/model.pt: $(FLY)/curated.csv $(RUN)/teacher/model.pt
	$(WV) distill --config training/configs/student_pool.toml --quiet
FLY_SELECTIONS := uniform curated scenario pool
flywheel: $(foreach c,$(FLY_SELECTIONS),$(FLY)/closedloop/$(c).json $(FLY)/heldout.$(c).index/index.json)
	$(PY) -m wayvert.curate.compare $(FLY) uniform curated scenario:curated_labels pool:pool | tee $(FLY)/compare.md

clean:
	rm -rf _build .skbuild $(VENV) build-cpp.log build-asan.log build-tsan.log build-fuzz.log build-aarch64.log demo_out
