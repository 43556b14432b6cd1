# lightning-ae: every command a user needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/lightning-ae
STAMP := $(VENV)/.installed-stamp
LOGS ?= logs

.PHONY: help install test run bench tensorboard clean repro repro-quick report

# Every reproduction run is a file: its record $(RUNS)/CONFIG/repro/seedN.json. The rule below fits
# configs/CONFIG.yaml with `--seed_everything N` in $(LOGS)/CONFIG/repro_seedN (TensorBoard events,
# checkpoints, run.json, figures/), tests its last checkpoint (the final weights) and condenses run.json
# into the record (lightning_ae.report.collect), which is committed; `make report` reads only records.
# $(call records,CONFIG[,SEEDS]): the records of CONFIG's runs. Rows with a published number take
# SEEDS (3 seeds), the others SEED0 alone. A record that exists is not made again (an interrupted
# `make repro` picks up where it stopped); REDO=1 makes every one again. One folder and one record per
# config and seed, and make builds each file once: `make -j2 repro` never has two processes on one run.
# REPRO_ARGS is appended to every run (repro-quick sets a short budget through it); REPRO_EXTRA, a
# per-record variable (mk/vae.mk), to that config's runs.
REPRO_ARGS ?=
SEEDS ?= 0 1 2
SEED0 = $(firstword $(SEEDS))
REPORT_DIR ?= reports
RUNS = $(REPORT_DIR)/runs
RUN_ARGS = --trainer.logger.init_args.save_dir $(LOGS) --trainer.logger.init_args.version
COLLECT = $(PY) -m lightning_ae.report.collect --runs $(RUNS)
records = $(foreach s,$(or $(2),$(SEEDS)),$(RUNS)/$(1)/repro/seed$(s).json)
REDO_DEP = $(if $(REDO),FORCE)
.PHONY: FORCE
FORCE:
define repro_rule
$(RUNS)/%/repro/seed$(1).json: $$(REDO_DEP) | $(STAMP)
	rm -rf $(LOGS)/$$*/repro_seed$(1)
	$(CLI) fit  --config configs/$$*.yaml --seed_everything $(1) $(RUN_ARGS) repro_seed$(1) $$(REPRO_EXTRA) $(REPRO_ARGS)
	$(CLI) test --config configs/$$*.yaml --seed_everything $(1) $(RUN_ARGS) repro_seed$(1) $$(REPRO_EXTRA) $(REPRO_ARGS) --ckpt_path $(LOGS)/$$*/repro_seed$(1)/checkpoints/last.ckpt
	$(COLLECT) $(LOGS)/$$*/repro_seed$(1) --version repro
endef
$(foreach s,$(sort $(SEEDS)),$(eval $(call repro_rule,$(s))))

help:  ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort

install: $(STAMP)  ## create .venv and install the project with its test extras

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -e '.[dev]'
	touch $(STAMP)

# TEST_WORKERS pytest-xdist processes (default: one per CPU), one BLAS/OpenMP thread each unless
# OMP_NUM_THREADS says otherwise: most tests are short CLI runs whose time is Python, not arithmetic, so
# processes side by side beat threads inside one (2 idle cores: 405 tests in 5 min 36 s). Work stealing
# (pytest-xdist's --dist worksteal): a worker that runs out takes tests queued for the other.
TEST_WORKERS ?= auto
test: install  ## run the whole test suite (unit tests + CLI runs on a slice of real MNIST), in parallel
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

.PHONY: test-fast
# one BLAS/OpenMP thread unless OMP_NUM_THREADS says otherwise: the unit tests' tensors are small, and on a
# shared 2-core machine two spinning threads per process made the tier 3.5x slower (34 s vs 2 min)
test-fast: install  ## the unit tier: every test not marked slow (no real MNIST, CLI run or subprocess), under a minute
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) -m pytest -q -m "not slow"

run: install  ## the main job: 2-D autoencoder (5 epochs) vs PCA-2, test MSEs and figures
	rm -rf $(LOGS)/ae_2d/run $(LOGS)/pca_2d/run
	$(CLI) fit --config configs/pca_2d.yaml --trainer.logger.init_args.version run --test_after_fit true
	$(CLI) fit --config configs/ae_2d.yaml --trainer.logger.init_args.version run --test_after_fit true
	$(PY) -m lightning_ae.summary $(LOGS)/pca_2d/run $(LOGS)/ae_2d/run

# KERAS_PYTHON: a Python with `pip install keras torch` (a venv of its own) adds the seed's Keras script
KERAS_PYTHON ?=
bench: install  ## `lightning-ae fit` as a whole process vs a plain PyTorch script (and Keras), start-up, s/epoch
	$(PY) -m lightning_ae.bench $(if $(KERAS_PYTHON),--keras-python $(KERAS_PYTHON)) $(BENCH_ARGS)

tensorboard: install  ## open the logs in TensorBoard
	$(VENV)/bin/tensorboard --logdir $(LOGS)

.PHONY: tensorboard-screenshots
tensorboard-screenshots: install  ## PNGs of TensorBoard's dashboards over $(LOGS) in $(LOGS)/screenshots (headless chromium)
	$(PY) -m lightning_ae.tbserver --logdir $(LOGS) --out $(LOGS)/screenshots

clean:  ## remove logs, caches (keeps .venv)
	rm -rf $(LOGS)/* .pytest_cache
	find . -name __pycache__ -not -path './.venv/*' -exec rm -rf {} +

# one file per reproduction family: mk/<family>.mk defines its repro-* targets
-include $(sort $(wildcard mk/*.mk))

# every repro-* target of mk/*.mk, in file order: `make repro` runs them all, then the report
REPRO_TARGETS := $(shell sed -nE 's/^(repro-[a-z0-9-]+):.*/\1/p' $(sort $(wildcard mk/*.mk)))

# `make -j2 repro` runs two at a time: every run is a record file (above), made once
repro: install $(REPRO_TARGETS)  ## every reproduction at full length (SEEDS), records in reports/runs, then `make report` (many CPU-hours)
	$(MAKE) --no-print-directory report

# a smoke check of every reproduction on a short budget; its report goes to $(LOGS)/quick/report
QUICK_ARGS := --trainer.max_epochs 2 --trainer.limit_train_batches 20 --trainer.limit_val_batches 4 \
	--trainer.check_val_every_n_epoch 1 \
	--trainer.enable_progress_bar false --probes.train_samples 2000 --probes.probe_steps 50
QUICK_SEEDS ?= 0
repro-quick: install  ## every reproduction on a few CPU minutes' budget; report in logs/quick/report
	$(MAKE) --no-print-directory repro LOGS=$(LOGS)/quick REPORT_DIR=$(LOGS)/quick/report REPRO_ARGS="$(QUICK_ARGS)" SEEDS="$(QUICK_SEEDS)" REDO=1 \
		VAE_NLL_SAMPLES=50 VAE_NLL_IMAGES=200 BURDA_NLL="--model.init_args.nll_samples 50 --model.init_args.nll_images 200" LABELS="100 1000" CLASSIFIER_ARGS="--steps 20 --full-epochs 1"

report: install  ## write reports/README.md from the committed run records in reports/runs alone (byte for byte the same on re-run)
	$(PY) -m lightning_ae.report --runs $(RUNS) --out $(REPORT_DIR)
