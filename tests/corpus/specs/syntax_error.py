from infra.dsl import cron, workflow

workflow(
    name="broken",
    schema=1
    description="missing comma above",
)
# expect: workflows/syntax_error.py:5: (syntax): 'schema=1' — is not valid Python: invalid syntax. Perhaps you forgot a comma? — fix the syntax at this line
