# One entry point for humans and CI. Every target uses the project's own virtualenv.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install lint format typecheck test test-unit test-integration check demo bench bench-pipeline bench-xml bench-read bench-drain bench-cost bench-one openapi clean

$(BIN)/engage-relay: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/engage-relay

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

# Two pytest workers: the heavy real-process tests (xdist_group "heavy") run one after another on one of them,
# everything else beside them; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

test-unit: install
	$(BIN)/pytest tests --ignore=tests/integration

test-integration: install
	$(BIN)/pytest tests/integration

check: lint typecheck test

# The demo starts its own Redis unless REDIS_URL is set; as root, a missing redis-server is installed first.
demo: install
	@command -v redis-server >/dev/null 2>&1 || [ -x /usr/sbin/redis-server ] || [ -n "$${REDIS_URL:-}" ] || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; \
	  else echo "redis-server is not installed: sudo apt-get install redis-server (or set REDIS_URL)"; exit 1; fi
	$(BIN)/engage-relay demo

bench: install
	$(BIN)/python -m bench.simulator_rps

bench-pipeline: install
	$(BIN)/python -m bench.pipeline

bench-xml: install
	$(BIN)/python -m bench.xml_write

bench-read: install
	$(BIN)/python -m bench.read_path

bench-drain: install
	$(BIN)/python -m bench.drain

bench-cost: install
	$(BIN)/python -m bench.call_cost

bench-one: install
	$(BIN)/python -m bench.one_event

# The HTTP service's OpenAPI document, as /openapi.json serves it (a test keeps the two equal).
openapi: install
	$(BIN)/engage-relay openapi -o api/openapi.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .var
