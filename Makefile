# bizreg — the two set-up commands are `make run` and `make test`; the rest are for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
B ?= seed_load
SIZE ?= quick

.PHONY: run test lint format bench bench-quick venv bytecode debian-test-deps migrate demo serve lock clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip sync --python $(BIN)/python -q --compile-bytecode requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: $(STAMP)

# Regenerate the lock file after editing pyproject.toml dependencies.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock -q

migrate: venv
	$(BIN)/python manage.py compile_translations
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

# Serves the app and its Celery workers with friendly error pages (DEBUG off) on the embedded defaults.
# prepare_run = compile_translations, migrate, seed_demo and collectstatic in one process.
# Bytecode is compiled ahead (the dependencies at install, the project here, a no-op when current): where
# PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile each module it imports (≈ 1 s).
bytecode: venv
	@$(BIN)/python -m compileall -q -j 0 bizreg config >/dev/null

run: venv bytecode
	DEBUG=0 $(BIN)/python manage.py prepare_run
	DEBUG=0 HOST=$(HOST) PORT=$(PORT) scripts/serve

debian-test-deps:
	@scripts/ensure-debian-packages chromium fonts-noto-cjk

test: venv bytecode debian-test-deps
	$(BIN)/python manage.py compile_translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	$(BIN)/python -m bench.run $(B) --size $(SIZE)

bench-quick: venv
	$(BIN)/python -m bench.run --all --size quick

clean:
	rm -rf var staticfiles artifacts
