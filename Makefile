# Every target first makes sure the virtualenv (.venv) and redis-server are there:
# `.ci/run install` does it, and does nothing when both are already set up.
BIN := .venv/bin

.PHONY: install test lint demo bench

install:
	.ci/run install

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/notifier lint

demo: install
	$(BIN)/notifier demo

bench: install
	for script in bench/*_bench.py; do PYTHONPATH=. $(BIN)/python "$$script" || exit 1; done
