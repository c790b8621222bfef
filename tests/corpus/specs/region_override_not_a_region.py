from infra.dsl import cron, rate, secret, workflow

workflow(
    name="region-override-not-a-region",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {"region": "europe"}, "gcp": {"region": "eu-west-1"}, "azure": {"location": "West Europe"}},
)
# expect: workflows/region_override_not_a_region.py:10: targets.aws.region: 'europe' — is not an AWS region name — write a region such as 'eu-central-1'
# expect: workflows/region_override_not_a_region.py:10: targets.azure.location: 'West Europe' — is not an Azure location name — write a location such as 'westeurope' (lowercase, no spaces)
# expect: workflows/region_override_not_a_region.py:10: targets.gcp.region: 'eu-west-1' — is not a GCP region — write a region such as 'europe-west1'
