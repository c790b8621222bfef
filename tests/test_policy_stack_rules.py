"""The stack rules (per workflow and across targets), on named fixtures, with the exact messages."""

from __future__ import annotations

import dataclasses

from infra.model import Schedule
from infra.schedule.workflow_check import check_workflow
from policies.rules import (
    canonical_fields,
    failure_paths,
    no_orphans,
    no_overlap,
    platform_limits,
    schedule_equivalence,
    workflow_everywhere,
)
from tests.policy_fixtures import example, model, reg, run, stamps, workflow

WF = "lockstep:index:Workflow"


def model_stack():  # type: ignore[no-untyped-def]
    return example().stack("staging")


def deployed(wf, *targets: str) -> list:  # type: ignore[no-untyped-def]
    """Return one stamped resource per target (plus the AWS dead-letter queue), as a compliant deployment has."""
    kinds = {"aws": ("aws:sqs/queue:Queue", "tags"), "azure": ("azure-native:web:WebApp", "tags"),
             "gcp": ("gcp:storage/bucket:Bucket", "labels"),
             "onprem": ("pulumi-python:dynamic/lockstep-onprem:Workflow", "stamps")}
    return [reg(kinds[t][0], f"{wf.name}-{t}", {kinds[t][1]: stamps(wf, t)}) for t in targets]


def test_workflow_on_every_target_passes_when_every_declared_target_has_it() -> None:
    wf = workflow()
    assert run(workflow_everywhere.POLICY, deployed(wf, *wf.target_names()), model(wf)) == []


def test_workflow_on_every_target_names_the_missing_target() -> None:
    wf = workflow()
    violating_without_gcp = deployed(wf, "aws", "azure", "onprem")
    assert run(workflow_everywhere.POLICY, violating_without_gcp, model(wf)) == [
        "[gcp] nightly-ledger-export: targets: the workflow declares gcp but nothing is deployed there in stack "
        "'staging' — fix what gcp cannot honour (see the other violations), or drop gcp from its targets"]


def test_workflow_on_every_target_refuses_a_stale_digest_on_one_target() -> None:
    wf = workflow()
    resources = deployed(wf, *wf.target_names())
    stale = dataclasses.replace(wf, digest="0" * 32)
    resources[0] = deployed(stale, "aws")[0]
    assert run(workflow_everywhere.POLICY, resources, model(wf)) == [
        f"[aws] nightly-ledger-export: digest: nightly-ledger-export-aws is stamped with spec digest '{'0' * 32}', "
        f"but the workflow's spec digest is {wf.digest!r} — deploy every target from the same commit"]


def test_no_orphans_refuses_a_resource_of_an_undeclared_workflow() -> None:
    wf, gone = workflow(), workflow(name="queue-drain")
    violating = [*deployed(gone, "aws"), reg(WF, "queue-drain", {}, custom=False)]
    assert run(no_orphans.POLICY, deployed(wf, "aws") + violating, model(wf)) == [
        "[aws] queue-drain: name: queue-drain-aws (aws:sqs/queue:Queue) is stamped with a workflow that workflows/ "
        "does not declare — delete it, or restore the workflow's definition",
        "[?] queue-drain: name: a Workflow component exists for a workflow that workflows/ does not declare — the "
        "program must build components only from workflows/"]


def test_no_overlap_refuses_two_workflows_running_the_same_job() -> None:
    first = workflow()
    twin = dataclasses.replace(first, name="ledger-export-twin", digest="1" * 32)
    compliant_other = workflow(name="queue-drain")
    resources = deployed(first, "aws") + deployed(twin, "aws") + deployed(compliant_other, "aws")
    assert run(no_overlap.POLICY, resources, model(first, twin, compliant_other)) == [
        "[aws] nightly-ledger-export: schedule: overlaps workflow 'ledger-export-twin': same schedule '30 1 * * *' "
        "(UTC) and the same code, so the job runs twice at every instant — remove one, or change what "
        "'nightly-ledger-export' runs"]


def test_schedule_equivalence_refuses_nth_weekday_on_gcp_with_the_schedule_modules_own_words() -> None:
    wf = workflow(schedule=Schedule("cron", "0 6 * * MON#1", "UTC"))
    [finding] = [f for f in check_workflow(wf, model_stack()) if f.level == "error"]
    assert finding.target == "gcp" and "'#'" in finding.message
    assert run(schedule_equivalence.POLICY, deployed(wf, "aws"), model(wf)) == [
        f"[gcp] nightly-ledger-export: schedule: {finding.message}"]


def test_schedule_equivalence_passes_a_schedule_every_target_expresses() -> None:
    wf = workflow()
    assert run(schedule_equivalence.POLICY, deployed(wf, "aws"), model(wf)) == []


def test_canonical_fields_refuses_a_timeout_lambda_cannot_honour() -> None:
    wf = workflow(timeout_s=1200)
    assert run(canonical_fields.POLICY, deployed(wf, "aws"), model(wf))[:1] == [
        "[aws] nightly-ledger-export: timeout: is impossible on aws: timeout 1200 s exceeds Lambda's maximum of "
        "900 s (15 min) — use timeout <= 15m, or drop aws from targets"]


def test_platform_limits_refuses_fifteen_minutes_on_azure_consumption_only() -> None:
    wf = workflow()
    app = {"tags": stamps(wf, "azure"), "siteConfig": {"appSettings": [
        {"name": "AzureFunctionsJobHost__functionTimeout", "value": "00:15:00"}]}}
    consumption = reg("azure-native:web:AppServicePlan", "plan", {"tags": stamps(wf, "azure"), "sku": {"name": "Y1"}})
    premium = reg("azure-native:web:AppServicePlan", "plan", {"tags": stamps(wf, "azure"), "sku": {"name": "EP1"}})
    assert run(platform_limits.POLICY, [consumption, reg("azure-native:web:WebApp", "app", app)]) == [
        "[azure] nightly-ledger-export: timeout: app: functionTimeout (Consumption plan) is 900, outside azure's "
        "documented range 1-600 — change the workflow's timeout, or drop azure"]
    assert run(platform_limits.POLICY, [premium, reg("azure-native:web:WebApp", "app", app)]) == []


def test_platform_limits_refuses_a_lambda_timeout_over_fifteen_minutes() -> None:
    wf = workflow()
    violating = reg("aws:lambda/function:Function", "fn", {"tags": stamps(wf, "aws"), "timeout": 1200})
    assert run(platform_limits.POLICY, [violating]) == [
        "[aws] nightly-ledger-export: timeout: fn: Lambda timeout is 1200, outside aws's documented range 1-900 — "
        "change the workflow's timeout, or drop aws"]


def test_failure_paths_wants_a_dead_letter_queue_on_aws_and_a_channel_on_gcp() -> None:
    wf = workflow()
    violating = [reg("aws:lambda/function:Function", "fn", {"tags": stamps(wf, "aws")}),
                 reg("gcp:storage/bucket:Bucket", "b", {"labels": stamps(wf, "gcp")})]
    assert run(failure_paths.POLICY, violating, model(wf)) == [
        "[aws] nightly-ledger-export: retry: no dead-letter queue: a run the scheduler cannot deliver is lost — give "
        "the schedule a dead_letter_config",
        "[aws] nightly-ledger-export: notify: the workflow declares notifications but aws has no aws:sns/topic:Topic "
        "— deploy the notification channel",
        "[gcp] nightly-ledger-export: notify: the workflow declares notifications but gcp has no "
        "gcp:monitoring/notificationChannel:NotificationChannel — deploy the notification channel"]
