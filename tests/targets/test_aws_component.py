"""AWS under mocks: each canonical field lands in the right property; roles are least privilege."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from infra.preflight.capture import ACCOUNT
from tests.targets_support import one, policy, prod

FN = "aws:lambda/function:Function"
SCHEDULE = "aws:scheduler/schedule:Schedule"
POLICY = "aws:iam/rolePolicy:RolePolicy"


def test_aws_schedule_carries_native_expression_zone_and_flexible_window_off() -> None:
    s = one(prod(), SCHEDULE, "berlin-payroll-sync-schedule")
    assert s.inputs["scheduleExpression"] == "cron(15 9 ? * MON-FRI *)", s.urn
    assert s.inputs["scheduleExpressionTimezone"] == "Europe/Berlin", s.urn
    assert s.inputs["flexibleTimeWindow"] == {"mode": "OFF"}, s.urn
    assert s.inputs["state"] == "ENABLED", s.urn


def test_aws_retry_lands_in_invoke_config_and_schedule_retry_policy() -> None:
    cap = prod()
    invoke = one(cap, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
                 "nightly-ledger-export-invoke-config")
    assert invoke.inputs["maximumRetryAttempts"] == 2, invoke.urn  # attempts 3 = first try + 2 retries
    assert invoke.inputs["maximumEventAgeInSeconds"] == 7200, invoke.urn
    retry = one(cap, SCHEDULE, "nightly-ledger-export-schedule").inputs["target"]["retryPolicy"]
    assert retry == {"maximumRetryAttempts": 2, "maximumEventAgeInSeconds": 7200}


def test_aws_schedule_has_a_dead_letter_queue_and_targets_its_own_function() -> None:
    cap = prod()
    target = one(cap, SCHEDULE, "queue-drain-schedule").inputs["target"]
    assert target["deadLetterConfig"]["arn"] == f"arn:aws:sqs:eu-central-1:{ACCOUNT}:lockstep-prod-queue-drain-dlq"
    assert target["arn"] == f"arn:aws:lambda:eu-central-1:{ACCOUNT}:function:lockstep-prod-queue-drain"


def test_aws_timeout_memory_runtime_and_local_memory_override_land_on_the_lambda() -> None:
    fn = one(prod(), FN, "inventory-snapshot-function")
    assert fn.inputs["timeout"] == 180, fn.urn
    assert fn.inputs["memorySize"] == 1024, f"{fn.urn}: the aws override of memory_mb is 1024"
    assert fn.inputs["runtime"] == "python3.12", fn.urn
    assert fn.inputs["handler"] == "lockstep_handler.handler", fn.urn


def test_aws_overlap_forbidden_reserves_one_concurrent_execution() -> None:
    fn = one(prod(), FN, "queue-drain-function")
    assert fn.inputs["reservedConcurrentExecutions"] == 1, fn.urn


def test_aws_lambda_code_is_the_content_addressed_archive() -> None:
    fn = one(prod(), FN, "queue-drain-function")
    path = fn.inputs["code"].path
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert digest in path, f"{fn.urn}: archive {path} is not named by its digest"
    assert fn.inputs["sourceCodeHash"] == base64.b64encode(bytes.fromhex(digest)).decode(), fn.urn


def test_aws_execution_role_writes_only_its_log_group_and_reads_only_declared_secrets() -> None:
    cap = prod()
    reg = one(cap, POLICY, "berlin-payroll-sync-exec-policy")
    statements = policy(reg)["Statement"]
    actions = sorted(a for s in statements for a in s["Action"])
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents", "secretsmanager:GetSecretValue"], reg.urn
    resources = sorted(r for s in statements for r in s["Resource"])
    assert resources == [
        f"arn:aws:logs:eu-central-1:{ACCOUNT}:log-group:/aws/lambda/lockstep-prod-berlin-payroll-sync:*",
        f"arn:aws:secretsmanager:eu-central-1:{ACCOUNT}:secret:lockstep/payroll-api-token-??????"], reg.urn
    no_secrets = policy(one(cap, POLICY, "queue-drain-exec-policy"))["Statement"]
    assert [s["Sid"] for s in no_secrets] == ["OwnLogGroup"], "a workflow without secrets gets no secrets access"


def test_aws_scheduler_role_invokes_only_its_own_function_and_sends_only_to_its_queue() -> None:
    reg = one(prod(), POLICY, "ny-morning-report-scheduler-policy")
    statements = {s["Sid"]: s for s in policy(reg)["Statement"]}
    assert statements["InvokeThisFunction"]["Action"] == ["lambda:InvokeFunction"], reg.urn
    assert statements["InvokeThisFunction"]["Resource"] == [
        f"arn:aws:lambda:eu-central-1:{ACCOUNT}:function:lockstep-prod-ny-morning-report"], reg.urn
    assert statements["DeadLetterThisQueue"]["Resource"] == [
        f"arn:aws:sqs:eu-central-1:{ACCOUNT}:lockstep-prod-ny-morning-report-dlq"], reg.urn


def test_no_aws_policy_allows_a_wildcard_action() -> None:
    for reg in prod().of_type(POLICY):
        for statement in policy(reg)["Statement"]:
            assert not any("*" in a for a in statement["Action"]), f"{reg.urn}: {statement}"


def test_aws_scheduler_role_trusts_only_the_scheduler_of_this_account() -> None:
    role = one(prod(), "aws:iam/role:Role", "queue-drain-scheduler-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}, role.urn
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}, role.urn


def test_aws_failures_alarm_on_errors_and_reach_the_declared_emails() -> None:
    cap = prod()
    alarm = one(cap, "aws:cloudwatch/metricAlarm:MetricAlarm", "monthly-invoice-run-errors-alarm")
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"]) == ("AWS/Lambda", "Errors"), alarm.urn
    topic_arn = f"arn:aws:sns:eu-central-1:{ACCOUNT}:lockstep-prod-monthly-invoice-run-alerts"
    assert alarm.inputs["alarmActions"] == [topic_arn], alarm.urn
    sub = one(cap, "aws:sns/topicSubscription:TopicSubscription", "monthly-invoice-run-notify-0")
    assert (sub.inputs["protocol"], sub.inputs["endpoint"], sub.inputs["topic"]) == \
        ("email", "billing-oncall@example.com", topic_arn), sub.urn


def test_aws_secrets_travel_as_references_never_values() -> None:
    env = one(prod(), FN, "monthly-invoice-run-function").inputs["environment"]["variables"]
    assert json.loads(env["LOCKSTEP_SECRETS"]) == {"BILLING_DB_PASSWORD": "lockstep/billing-db-password"}
    assert "BILLING_DB_PASSWORD" not in env
