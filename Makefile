.PHONY: preview test bench
# The main job: the offline preview of the staging stack on the example workflows.
preview:
	@scripts/setup.sh
	@.venv/bin/lockstep validate
# Everything the tests need, then ruff, mypy --strict and the whole test suite.
test:
	@scripts/test.sh
bench:
	@scripts/setup.sh
	@.venv/bin/python -m bench
