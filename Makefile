# Every target first makes sure the virtualenv (.venv) and redis-server are there:
# `.ci/run install` does it (`.ci/run runtime` for the demo: no browser), and does nothing
# when they are already set up.
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

demo:
	.ci/run runtime
	$(BIN)/notifier demo

bench: install
	for script in bench/*_bench.py; do PYTHONPATH=. $(BIN)/python "$$script" || exit 1; done
