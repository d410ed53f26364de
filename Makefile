# Wuji Cloud — every target sets up what it needs, so each works on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PG_URL ?= postgres://postgres@127.0.0.1:5432/wuji_ci
PORT ?= 8000

.PHONY: demo test test-sqlite test-postgres e2e lint system guest-image venv bench clean sdk-schema scale-test

# WUJI_DEMO_QEMU=1 make demo: also a real qemu:///system node (Hong Kong) booting the tiny guest.
demo: venv $(if $(filter 1,$(WUJI_DEMO_QEMU)),system) guest-image  ## run the platform on the embedded default (SQLite, demo catalogue, test hypervisor)
	WUJI_SANDBOX_PAYMENTS=1 $(BIN)/wuji demo --port $(PORT)

test: system venv guest-image  ## the whole suite on SQLite (with the browser and real-QEMU legs) and on PostgreSQL, then the scale-out test
	$(MAKE) -j2 --output-sync=target test-sqlite test-postgres  # the two legs at once: one per core
	$(MAKE) scale-test

test-sqlite:
	WUJI_TEST_LIBVIRT_SYSTEM=1 $(BIN)/python -m pytest -p no:cacheprovider -rs

test-postgres:
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -p no:cacheprovider -rs --create-db -m "not e2e" \
		--ignore=wuji/compute/tests/test_driver_contract.py

# Scale-out (decision 0051): a fresh PostgreSQL database (DROPPED and re-created), Redis as the shared cache, libvirtd's
# test driver as the shared node; 2 web servers, 2 workers, 2 schedulers under a bounded load, then the checks.
SCALE_PG_URL ?= postgres://postgres@127.0.0.1:5432/wuji_scale
SCALE_CACHE_URL ?= redis://127.0.0.1:6379/5
scale-test: venv  ## 2 web servers, 2 workers, 2 schedulers on PostgreSQL under load: nothing lost, nothing twice
	$(BIN)/python scripts/scale_test.py --database-url $(SCALE_PG_URL) --cache-url $(SCALE_CACHE_URL)

e2e: system venv guest-image
	$(BIN)/python -m pytest -p no:cacheprovider -m e2e

lint: venv
	$(BIN)/ruff check wuji wuji_sdk bench

sdk-schema: venv  ## regenerate the SDK's schema snapshot (wuji_sdk/openapi.json) from the server
	$(BIN)/python manage.py spectacular --format openapi-json --validate --fail-on-warn --file wuji_sdk/openapi.json

bench: venv  ## every benchmark beside its baseline measured in the same run (bench/*.py)
	@for script in $(filter-out bench/_% bench/%_baseline.py,$(wildcard bench/*.py)); do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

system:  ## apt packages, /dev/kvm fix, libvirtd + virtlogd (idempotent)
	$(SUDO) scripts/setup-libvirt.sh

guest-image: $(BIN)/python  ## the tiny bootable guest (kernel, initramfs, two marked disks) in the libvirt pool
	$(SUDO) scripts/build-guest-image.sh

$(BIN)/python:
	$(SUDO) scripts/setup-libvirt.sh --packages-only
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

clean:
	rm -rf $(VENV) var
