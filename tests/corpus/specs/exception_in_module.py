from infra.dsl import cron, workflow

RETRIES = int("three")
# expect: workflows/exception_in_module.py:3: (module): "ValueError: invalid literal for int() with base 10: 'three'" — raised while loading — fix the code at this line; workflow files should only declare workflows
