"""`lockstep drift` against drongo's Google Cloud: console edits of a job's schedule and retries, an env var."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.drift import seed
from tests.drift.support import deploy, drift, fields, scratch

WF = "nightly-ledger-export"
BASE = "lockstep-staging-nightly-ledger-export"
WHERE = "projects/acme-lockstep-staging/locations/europe-west1"


@pytest.fixture
def repo(tmp_path: Path, gcp: dict[str, Any]) -> Path:
    root = scratch(tmp_path / "repo", [WF])
    deploy(root, "staging", {"gcp": lambda _wf, regs: seed.seed_gcp(gcp, regs)})
    return root


def test_a_freshly_deployed_workflow_is_in_sync(repo: Path) -> None:
    code, report = drift(repo, "--stack", "staging", "--target", "gcp")
    assert (code, report["findings"]) == (0, []), [f["detail"] for f in report["findings"]]


def test_a_job_schedule_and_retry_count_edited_in_the_console_are_drift(repo: Path, gcp: dict[str, Any]) -> None:
    from google.cloud import scheduler_v1

    client = scheduler_v1.CloudSchedulerClient(**gcp)
    job = client.get_job(name=f"{WHERE}/jobs/{BASE}")
    retry = scheduler_v1.RetryConfig(job.retry_config)
    retry.retry_count = 0
    client.update_job(job=scheduler_v1.Job(name=job.name, schedule="30 3 * * *", retry_config=retry),
                      update_mask={"paths": ["schedule", "retry_config"]})
    code, report = drift(repo, "--stack", "staging", "--target", "gcp")
    assert code == 1
    got = fields(report)
    assert got[0][:4] == ("drift", WF, "gcp", "schedule") and got[0][5] == "30 3 * * *"
    assert got[1] == ("drift", WF, "gcp", "retry_count", job.retry_config.retry_count, 0)
    assert report["findings"][0]["first_diverging"]


def test_an_environment_variable_edited_on_the_function_is_drift(repo: Path, gcp: dict[str, Any]) -> None:
    from google.cloud import functions_v2

    client = functions_v2.FunctionServiceClient(**gcp)
    fn = client.get_function(name=f"{WHERE}/functions/{BASE}")
    service = functions_v2.ServiceConfig(fn.service_config)
    service.environment_variables["EXPORT_PREFIX"] = "ledger/hotfix"
    client.update_function(function=functions_v2.Function(name=fn.name, service_config=service),
                           update_mask={"paths": ["service_config"]}).result()
    code, report = drift(repo, "--stack", "staging", "--target", "gcp")
    [(level, _wf, _t, attribute, git, live)] = fields(report)
    assert (code, level, attribute) == (1, "drift", "env")
    assert (git, live) == ({"EXPORT_PREFIX": "ledger/daily"}, {"EXPORT_PREFIX": "ledger/hotfix"})
