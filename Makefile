# Trackside. `make run` and `make test` each set up a fresh machine completely, then act.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
	libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 \
	libfontconfig1 libglib2.0-0 libdbus-1-3
# The cloud service's suite also runs on PostgreSQL (tests/support/postgres.py starts a cluster).
APT_TEST_PACKAGES := postgresql
RUN_DATA_DIR ?= $(HOME)/Trackside
RUN_DURATION_S ?= 60
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run run-headless screenshots test bench soak models data setup setup-laptop apt apt-test lint clean

# The window, on a desktop (QT_QPA_PLATFORM unset: a real window), recording at once from a real
# FIT ride, three simulated athletes and the real Sports2D clip looped.
run: setup data
	env -u QT_QPA_PLATFORM $(VENV)/bin/trackside app --embedded-cloud \
	  --hr "replay:$$($(PY) -m edge_models.assets --path 4078723797.fit)" --hr sim:3 \
	  --camera "file:$$($(PY) -m edge_models.assets --path demo.mp4)?loop=1" \
	  --data-dir "$(RUN_DATA_DIR)"

run-headless: setup-laptop data
	$(VENV)/bin/trackside record --headless \
	  --hr "replay:$$($(PY) -m edge_models.assets --path 4078723797.fit)" --hr sim:2 \
	  --camera "file:$$($(PY) -m edge_models.assets --path demo.mp4)?loop=1" \
	  --duration $(RUN_DURATION_S) --data-dir "$(RUN_DATA_DIR)"

# One PNG per screen and state, from the real app in a real X11 window under Xvfb.
screenshots: setup-laptop data
	xvfb-run -a -s '-screen 0 1600x1000x24' env QT_QPA_PLATFORM=xcb \
	  $(PY) -m desktop.ui.screenshots --out docs/screenshots
	xvfb-run -a -s '-screen 0 1600x1000x24' env QT_QPA_PLATFORM=xcb \
	  $(PY) -m desktop.ui.screens_demo docs/screenshots

test: setup data
	$(VENV)/bin/ruff check desktop edge_models cloud_client training bench tests
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen timeout -s INT -k 60 2400 $(PY) -m pytest -q --durations=15 -o console_output_style=times

bench: setup data
	$(PY) -m bench

soak: setup data
	$(PY) -m bench.soak

models: setup data
	$(VENV)/bin/trackside-train hr --out edge_models/bundled/heart_rate
	$(VENV)/bin/trackside-train movement --out edge_models/bundled/movement

data: setup-laptop
	$(PY) -m edge_models.assets

# -- setting up ---------------------------------------------------------------------------
$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.laptop: pyproject.toml $(VENV)/.created
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.full: pyproject.toml $(VENV)/.laptop
	$(PY) -m pip install --quiet -e '.[training,test]'
	touch $@

setup-laptop: apt $(VENV)/.laptop
setup: apt apt-test $(VENV)/.full

# Qt's libraries and Xvfb (and, for the full setup, PostgreSQL); installed only when one is missing.
apt-test:
	@$(MAKE) --no-print-directory apt APT_PACKAGES="$(APT_TEST_PACKAGES)"

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
