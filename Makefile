# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run PORT=8080`: the demo's links and webhooks follow the port
PORT ?= 8000

.PHONY: run test lint format browsers clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/shipflow db upgrade
	$(BIN)/shipflow demo load
	SHIPFLOW_BASE_URL=$${SHIPFLOW_BASE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/shipflow serve --demo --port $(PORT)

# One test process per core (pytest-xdist); `make test PYTEST_ARGS="-n 0"` runs them in one.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

# Style, types (mypy, configured in pyproject.toml) and the import contracts (import-linter).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .import_linter_cache test-artifacts

# Customer-page translations: extract new strings, then merge them into every language's .po.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location -o shipflow/web/translations/messages.pot .
	$(BIN)/pybabel update -i shipflow/web/translations/messages.pot -d shipflow/web/translations --no-location
