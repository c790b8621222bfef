.PHONY: preview test bench
# The main job: the offline preview of the staging stack on the example workflows.
preview:
	@scripts/setup.sh
	@.venv/bin/lockstep preview --stack staging
# Everything the tests need, then ruff, mypy --strict and the whole test suite.
test:
	@scripts/test.sh
# Benchmarks (minutes, not seconds); figures and the machine they ran on go in docs/benchmarks.md.
bench:
	@scripts/setup.sh
	.venv/bin/python bench/bench_schedule.py
	.venv/bin/python bench/bench_program.py --workflows 1000
	.venv/bin/python bench/bench_preview.py --workflows 1000
	.venv/bin/python bench/bench_drift.py --workflows 1000
