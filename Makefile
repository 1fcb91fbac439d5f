# translearn — set-up, lab, tests, course execution, benchmarks.
# Every target creates .venv and installs the pinned environment first if needed (idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.translearn-installed
PORT   ?= 8888
NB     ?= exercises/01_transfer_basics.ipynb
SUBMISSIONS ?= submissions
OUT    ?= grades.csv
JOBS   ?= 2
# quiet TensorFlow's C++ start-up lines; tests never touch the network
export TF_CPP_MIN_LOG_LEVEL := 2
TEST_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TRANSLEARN_OFFLINE=1 PYTHONHASHSEED=0

.PHONY: setup lab test unit-test notebook-test browser-test course figures exercises grade grade-class release bench clean-venv

setup: $(STAMP)

$(STAMP): requirements.txt requirements-assets.txt constraints.txt pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-assets.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (translearn)" >/dev/null
	@# JupyterLab must not ask to fetch news or check for updates: the course runs offline
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' \
	  > $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $(STAMP)
	@echo "translearn environment ready in $(VENV)"

lab: setup
	@token=$$(test -f $(VENV)/.lab-token || $(PY) -c "import secrets;print(secrets.token_hex(16))" > $(VENV)/.lab-token; cat $(VENV)/.lab-token); \
	echo ""; echo "  JupyterLab: http://127.0.0.1:$(PORT)/lab?token=$$token"; echo "  (Ctrl-C to stop)"; echo ""; \
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.port_retries=0 \
	  --IdentityProvider.token=$$token --ServerApp.root_dir=$(CURDIR) \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# The README's test command: unit tests with sockets disabled, every notebook, solution and grader,
# then the course in JupyterLab in a real browser (Debian's chromium; skipped with a reason without it).
test: setup
	$(TEST_ENV) $(PY) -m pytest -q tests/unit --disable-socket --allow-unix-socket
	$(TEST_ENV) $(PY) -m pytest -q tests/notebooks --nbval-lax notebooks solutions --timeout 900
	$(TEST_ENV) $(PY) -m pytest -q -rs tests/browser --timeout 600

browser-test: setup
	$(TEST_ENV) $(PY) -m pytest -q -rs tests/browser --timeout 600

unit-test: setup
	$(TEST_ENV) $(PY) -m pytest -q tests/unit --disable-socket --allow-unix-socket

# Execute every notebook in notebooks/ in place (outputs kept, as committed).
course: setup
	$(TEST_ENV) $(PY) scripts/run_notebooks.py notebooks/*.ipynb
	$(PY) scripts/make_figures.py

# Copy the README's figures out of the executed notebooks into docs/figures/.
figures: setup
	$(PY) scripts/make_figures.py

# Regenerate exercises/ from solutions/ (never edit exercises/ by hand).
exercises: setup
	$(PY) -m translearn_lib.grading generate

# Grade one notebook: make grade NB=exercises/01_transfer_basics.ipynb
grade: setup
	$(TEST_ENV) $(PY) -m translearn_lib.grading $(NB)

# Grade a class: make grade-class SUBMISSIONS=path/to/class OUT=grades.csv JOBS=2 (rerun to resume)
grade-class: setup
	$(TEST_ENV) $(PY) -m translearn_lib.grading class $(SUBMISSIONS) --out $(OUT) --jobs $(JOBS)

# dist/student (no solutions, no hidden checks) and dist/autograder, plus .tar.gz/.zip archives
release: setup
	$(PY) scripts/release.py --out dist

bench: setup
	$(TEST_ENV) $(PY) benchmarks/text_encoder.py
	$(TEST_ENV) $(PY) benchmarks/ml100k.py
	$(TEST_ENV) $(PY) benchmarks/cross_domain.py
	$(TEST_ENV) $(PY) benchmarks/grading.py
	$(TEST_ENV) $(PY) benchmarks/bandits.py
	$(TEST_ENV) $(PY) benchmarks/privacy.py
	$(TEST_ENV) $(PY) benchmarks/scale.py
	$(TEST_ENV) $(PY) benchmarks/vision.py
	$(TEST_ENV) $(PY) benchmarks/llm.py

clean-venv:
	rm -rf $(VENV)
