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

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import naming
from infra.bundle import SHIM_HANDLER, bundle
from infra.model import Workflow as Wf
from infra.stamps import CODE_ENV, ENTRY_ENV, SECRETS_ENV, as_env, describe, with_commit
from infra.targets.aws.normalize import WEBHOOK_TAG
from infra.targets.aws.translate import AwsDesired, names, translate
from infra.targets.base import Context

TYPE = "lockstep:aws:Workflow"
DLQ_RETENTION_S = 14 * 86400
LOG_RETENTION_DAYS = 30


def _trust(service: str, account: str | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account:  # confused-deputy guard: only schedules of this account may use the role
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def account_of(arn: str) -> str:
    """Return the account ID field of an ARN."""
    return arn.split(":")[4]


def exec_policy(log_group_arn: str, region: str, secret_ids: list[str]) -> str:
    """Return the execution role's policy: its own log group, and only the declared secrets (Secrets Manager ids)."""
    statements: list[dict[str, Any]] = [{
        "Sid": "OwnLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [f"{log_group_arn}:*"]}]
    if secret_ids:
        account = account_of(log_group_arn)
        statements.append({
            "Sid": "DeclaredSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
            # Secrets Manager appends '-' and 6 random characters to a secret's ARN.
            "Resource": [f"arn:aws:secretsmanager:{region}:{account}:secret:{n}-??????" for n in secret_ids]})
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

    @staticmethod
    def provider_key(d: AwsDesired) -> tuple[str, str]:
        """Return what identifies the provider this workflow needs (shared by every workflow with the same key)."""
        return "aws", d.region

    @staticmethod
    def new_provider(name: str, d: AwsDesired) -> pulumi.ProviderResource:
        """Return the explicit provider for the desired state's region."""
        return aws.Provider(name, region=d.region)

    def __init__(self, name: str, wf: Wf, ctx: Context, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self._d = translate(wf, ctx.stack).desired  # everything deployed below comes from here
        self._wf, self._ctx, self._tags = wf, ctx, with_commit(self._d.stamps, ctx.commit)
        self._region = self._d.region
        self._live = ctx.live("aws")  # children that exist live keep their names and are imported
        self._names = names(ctx.stack.name, wf.name, self._live)
        self._function()
        self._schedule()
        self._alerts()
        self.register_outputs({"functionArn": self.function.arn, "scheduleArn": self.schedule.arn,
                               "region": self._region, "stamps": self._tags})

    def _child(self, role: str = "", **kw: Any) -> pulumi.ResourceOptions:
        live = self._live.get(role)
        return pulumi.ResourceOptions(parent=self, import_=live.id if live else None, **kw)

    def _phys(self, role: str, limit: int = 64) -> str:
        return naming.physical("lockstep", self._ctx.stack.name, self._wf.name, role, limit=limit)

    def _function(self) -> None:
        wf, d, n, tags = self._wf, self._d, naming.logical, self._tags
        self.log_group = aws.cloudwatch.LogGroup(n(wf.name, "logs"), name=self._names.logs,
                                                 retention_in_days=LOG_RETENTION_DAYS, tags=tags,
                                                 opts=self._child("logs"))
        self.exec_role = aws.iam.Role(n(wf.name, "exec"), name=self._phys("exec"), tags=tags, opts=self._child(),
                                      assume_role_policy=_trust("lambda.amazonaws.com"))
        secrets = sorted(set(d.secrets.values()))
        region = self._region
        self.exec_policy = aws.iam.RolePolicy(
            n(wf.name, "exec-policy"), role=self.exec_role.id, opts=self._child(),
            policy=self.log_group.arn.apply(lambda arn: exec_policy(arn, region, secrets)))
        package = bundle(wf, self._ctx.root, "aws")
        env = {**d.env, **as_env(tags), ENTRY_ENV: d.entry, CODE_ENV: d.code_digest}
        if d.secrets:
            env[SECRETS_ENV] = json.dumps(dict(d.secrets), sort_keys=True)
        self.function = aws.lambda_.Function(
            n(wf.name, "function"), name=self._names.function, role=self.exec_role.arn, runtime=d.runtime,
            handler=SHIM_HANDLER["aws"], code=pulumi.FileArchive(str(package.path)),
            source_code_hash=package.sha256_b64, memory_size=d.memory_mb, timeout=d.timeout_s,
            reserved_concurrent_executions=d.reserved_concurrency,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=env),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=self.log_group.name),
            description=describe(tags), tags=tags, opts=self._child("function", depends_on=[self.exec_policy]))
        self.invoke_config = aws.lambda_.FunctionEventInvokeConfig(
            n(wf.name, "invoke-config"), function_name=self.function.name, maximum_retry_attempts=d.lambda_retries,
            maximum_event_age_in_seconds=d.lambda_max_event_age_s, opts=self._child())

    def _schedule(self) -> None:
        wf, d, n, tags = self._wf, self._d, naming.logical, self._tags
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
        self.schedule = aws.scheduler.Schedule(
            n(wf.name, "schedule"), name=self._names.schedule, group_name=self._group(),
            description=describe(tags),
            schedule_expression=d.schedule_expression, schedule_expression_timezone=d.schedule_timezone,
            start_date=d.start_date, end_date=d.end_date, state="ENABLED",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=self.function.arn, role_arn=self.scheduler_role.arn,
                input=json.dumps({"source": "aws.scheduler", "lockstep": tags}, sort_keys=True),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=d.scheduler_retries,
                    maximum_event_age_in_seconds=d.scheduler_max_event_age_s),
                dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(arn=self.dlq.arn)),
            opts=self._child("schedule", depends_on=[self.scheduler_policy]))

    def _group(self) -> pulumi.Input[str]:
        """Return the schedule's group name, making the group a child unless an adopted schedule keeps its own.

        A schedule takes no tags; its group does, so each workflow gets its own group to carry the stamps. An
        adopted schedule stays in its live group (moving it would replace it); that group is this workflow's child
        only when the record imports it too, since a shared group holds other schedules.
        """
        self.group: aws.scheduler.ScheduleGroup | None = None
        if not self._names.owns_group:
            return self._names.group
        self.group = aws.scheduler.ScheduleGroup(
            naming.logical(self._wf.name, "schedules"), name=self._names.group,
            tags=self._tags, opts=self._child("schedules"))
        return self.group.name

    def _alerts(self) -> None:
        wf, d, n, tags = self._wf, self._d, naming.logical, self._tags
        webhooks = " ".join(d.webhook_secrets)
        topic_tags = {**tags, **({WEBHOOK_TAG: webhooks} if webhooks else {})}
        self.topic = aws.sns.Topic(n(wf.name, "alerts"), name=self._names.topic, tags=topic_tags,
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
        for i, address in enumerate(d.email_subscriptions):
            aws.sns.TopicSubscription(n(wf.name, f"notify-{i}"), topic=self.topic.arn, protocol="email",
                                      endpoint=address, opts=self._child())
