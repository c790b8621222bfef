"""AWS: a Lambda function fired by an EventBridge Scheduler schedule, with least-privilege roles and alarms.

Children of `lockstep:aws:Workflow` (logical names `{workflow}-{role}`):
  logs, exec, exec-policy, function, invoke-config   the function, its log group and its execution role
  dlq, scheduler-role, scheduler-policy, schedules, schedule   the schedule and what it may do
  alerts, errors-alarm, dlq-alarm, notify-N                  failure notifications
The execution role may write only to its own log group and read only the declared secrets; the scheduler role may
invoke only this function and send only to this dead-letter queue. Policies are JSON built inside Output.apply
from the ARNs of the resources themselves (no invokes, so previews run without credentials).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import fidelity, naming
from infra.bundle import SHIM_HANDLER, bundle
from infra.model import StackConfig
from infra.model import Workflow as Wf
from infra.schedule.translate import Native
from infra.schedule.translate import translate as translate_schedule
from infra.stamps import as_env, describe, stamps
from infra.targets.base import Context

TYPE = "lockstep:aws:Workflow"
DLQ_RETENTION_S = 14 * 86400
LOG_RETENTION_DAYS = 30


def translate(wf: Wf, stack: StackConfig) -> dict[str, Any]:
    """Return the native AWS value of every canonical field (what the component deploys)."""
    native = translate_schedule(wf.schedule, "aws")
    retries = wf.retry.attempts - 1
    return {
        "schedule": native, "timezone": native,
        "retry.attempts": {"lambda.MaximumRetryAttempts": min(retries, fidelity.LAMBDA_MAX_RETRIES),
                           "scheduler.MaximumRetryAttempts": retries},
        "retry.backoff": "Lambda asynchronous retries (fixed by AWS)" if retries else "none",
        "retry.max_event_age": {"lambda.MaximumEventAgeInSeconds": min(wf.retry.max_event_age_s,
                                                                       fidelity.LAMBDA_MAX_EVENT_AGE_S),
                                "scheduler.MaximumEventAgeInSeconds": min(wf.retry.max_event_age_s,
                                                                          fidelity.SCHEDULER_MAX_EVENT_AGE_S)},
        "timeout": wf.timeout_s,
        "allow_overlap": {"ReservedConcurrentExecutions": None if wf.allow_overlap else 1},
        "notify": [f"sns:{n.kind}:{n.address if n.kind == 'email' else n.describe()}" for n in wf.notify],
        "memory": wf.local("aws", "memory_mb"),
        "secrets": {k: f"lockstep/{v.name}" for k, v in sorted(wf.function.secrets.items())},
        "env": dict(sorted(wf.function.env.items())),
        "runtime": wf.function.runtime,
    }


def _trust(service: str, account: str | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account:  # confused-deputy guard: only schedules of this account may use the role
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def account_of(arn: str) -> str:
    """Return the account ID field of an ARN."""
    return arn.split(":")[4]


def exec_policy(log_group_arn: str, region: str, secret_names: list[str]) -> str:
    """Return the execution role's policy: its own log group, and only the declared secrets."""
    statements: list[dict[str, Any]] = [{
        "Sid": "OwnLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [f"{log_group_arn}:*"]}]
    if secret_names:
        account = account_of(log_group_arn)
        statements.append({
            "Sid": "DeclaredSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
            # Secrets Manager appends '-' and 6 random characters to a secret's ARN.
            "Resource": [f"arn:aws:secretsmanager:{region}:{account}:secret:lockstep/{n}-??????"
                         for n in secret_names]})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def scheduler_policy(function_arn: str, dlq_arn: str) -> str:
    """Return the scheduler role's policy: invoke this one function, send to this one queue."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "InvokeThisFunction", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
         "Resource": [function_arn]},
        {"Sid": "DeadLetterThisQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [dlq_arn]},
    ]}, sort_keys=True)


class Workflow(pulumi.ComponentResource):
    """One workflow on AWS."""

    function: aws.lambda_.Function
    schedule: aws.scheduler.Schedule

    def __init__(self, name: str, wf: Wf, ctx: Context, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self._wf, self._ctx, self._tags = wf, ctx, stamps(wf, "aws", ctx.commit)
        assert ctx.stack.aws is not None
        self._region = str(wf.local("aws", "region") or ctx.stack.aws.region)
        self._native = translate(wf, ctx.stack)
        self._base = naming.physical("lockstep", ctx.stack.name, wf.name, limit=64)
        self._function()
        self._schedule()
        self._alerts()
        self.register_outputs({"functionArn": self.function.arn, "scheduleArn": self.schedule.arn,
                               "region": self._region, "stamps": self._tags})

    def _child(self, **kw: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kw)

    def _phys(self, role: str, limit: int = 64) -> str:
        return naming.physical("lockstep", self._ctx.stack.name, self._wf.name, role, limit=limit)

    def _function(self) -> None:
        wf, n, tags = self._wf, naming.logical, self._tags
        self.log_group = aws.cloudwatch.LogGroup(n(wf.name, "logs"), name=f"/aws/lambda/{self._base}",
                                                 retention_in_days=LOG_RETENTION_DAYS, tags=tags, opts=self._child())
        self.exec_role = aws.iam.Role(n(wf.name, "exec"), name=self._phys("exec"), tags=tags, opts=self._child(),
                                      assume_role_policy=_trust("lambda.amazonaws.com"))
        secrets = sorted(v.name for v in wf.function.secrets.values())
        region = self._region
        self.exec_policy = aws.iam.RolePolicy(
            n(wf.name, "exec-policy"), role=self.exec_role.id, opts=self._child(),
            policy=self.log_group.arn.apply(lambda arn: exec_policy(arn, region, secrets)))
        package = bundle(wf, self._ctx.root, "aws")
        env = {**self._native["env"], **as_env(tags)}
        if wf.function.secrets:
            env["LOCKSTEP_SECRETS"] = json.dumps(self._native["secrets"], sort_keys=True)
        self.function = aws.lambda_.Function(
            n(wf.name, "function"), name=self._base, role=self.exec_role.arn, runtime=wf.function.runtime,
            handler=SHIM_HANDLER["aws"], code=pulumi.FileArchive(str(package.path)),
            source_code_hash=package.sha256_b64, memory_size=self._native["memory"], timeout=wf.timeout_s,
            reserved_concurrent_executions=None if wf.allow_overlap else 1,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=env),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=self.log_group.name),
            description=describe(tags), tags=tags, opts=self._child(depends_on=[self.exec_policy]))
        attempts: dict[str, int] = self._native["retry.attempts"]
        age: dict[str, int] = self._native["retry.max_event_age"]
        self.invoke_config = aws.lambda_.FunctionEventInvokeConfig(
            n(wf.name, "invoke-config"), function_name=self.function.name,
            maximum_retry_attempts=attempts["lambda.MaximumRetryAttempts"],
            maximum_event_age_in_seconds=age["lambda.MaximumEventAgeInSeconds"], opts=self._child())

    def _schedule(self) -> None:
        wf, n, tags = self._wf, naming.logical, self._tags
        native = self._native["schedule"]
        assert isinstance(native, Native), "refusals are raised before components are built"
        self.dlq = aws.sqs.Queue(n(wf.name, "dlq"), name=self._phys("dlq", 80), tags=tags,
                                 message_retention_seconds=DLQ_RETENTION_S, sqs_managed_sse_enabled=True,
                                 opts=self._child())
        self.scheduler_role = aws.iam.Role(
            n(wf.name, "scheduler-role"), name=self._phys("scheduler"), tags=tags, opts=self._child(),
            assume_role_policy=self.log_group.arn.apply(
                lambda arn: _trust("scheduler.amazonaws.com", account_of(arn))))
        self.scheduler_policy = aws.iam.RolePolicy(
            n(wf.name, "scheduler-policy"), role=self.scheduler_role.id, opts=self._child(),
            policy=pulumi.Output.all(self.function.arn, self.dlq.arn).apply(lambda a: scheduler_policy(a[0], a[1])))
        # A schedule takes no tags; its group does, so each workflow gets its own group to carry the stamps.
        self.group = aws.scheduler.ScheduleGroup(n(wf.name, "schedules"), name=self._base, tags=tags,
                                                 opts=self._child())
        attempts: dict[str, int] = self._native["retry.attempts"]
        age: dict[str, int] = self._native["retry.max_event_age"]
        s = wf.schedule
        self.schedule = aws.scheduler.Schedule(
            n(wf.name, "schedule"), name=self._base, group_name=self.group.name, description=describe(tags),
            schedule_expression=native.expression, schedule_expression_timezone=native.timezone,
            start_date=_iso(s.start), end_date=_iso(s.end), state="ENABLED",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=self.function.arn, role_arn=self.scheduler_role.arn,
                input=json.dumps({"source": "aws.scheduler", "lockstep": tags}, sort_keys=True),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=attempts["scheduler.MaximumRetryAttempts"],
                    maximum_event_age_in_seconds=age["scheduler.MaximumEventAgeInSeconds"]),
                dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(arn=self.dlq.arn)),
            opts=self._child(depends_on=[self.scheduler_policy]))

    def _alerts(self) -> None:
        wf, n, tags = self._wf, naming.logical, self._tags
        webhooks = " ".join(x.secret.name for x in wf.notify if x.kind == "webhook" and x.secret)
        topic_tags = {**tags, **({"lockstep-webhook-secrets": webhooks} if webhooks else {})}
        self.topic = aws.sns.Topic(n(wf.name, "alerts"), name=self._phys("alerts", 256), tags=topic_tags,
                                   opts=self._child())
        alarm: dict[str, Any] = {"namespace": "AWS/Lambda", "statistic": "Sum", "period": 60, "evaluation_periods": 1,
                 "threshold": 0, "comparison_operator": "GreaterThanThreshold", "treat_missing_data": "notBreaching",
                 "alarm_actions": [self.topic.arn], "tags": tags}
        self.errors_alarm = aws.cloudwatch.MetricAlarm(
            n(wf.name, "errors-alarm"), name=self._phys("errors", 255), metric_name="Errors",
            dimensions={"FunctionName": self.function.name},
            alarm_description=f"{wf.name}: the function failed ({describe(tags)})", opts=self._child(), **alarm)
        alarm.update(namespace="AWS/SQS", statistic="Maximum")
        self.dlq_alarm = aws.cloudwatch.MetricAlarm(
            n(wf.name, "dlq-alarm"), name=self._phys("missed", 255), metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dlq.name},
            alarm_description=f"{wf.name}: the scheduler could not invoke the function ({describe(tags)})",
            opts=self._child(), **alarm)
        for i, target in enumerate(x for x in wf.notify if x.kind == "email"):
            aws.sns.TopicSubscription(n(wf.name, f"notify-{i}"), topic=self.topic.arn, protocol="email",
                                      endpoint=target.address, opts=self._child())


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None
