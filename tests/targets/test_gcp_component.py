"""GCP under mocks: Cloud Scheduler job fields, a private function, its own identities, alerts."""

from __future__ import annotations

from tests.targets_support import one, prod

FN = "gcp:cloudfunctionsv2/function:Function"
JOB = "gcp:cloudscheduler/job:Job"


def test_gcp_job_carries_schedule_zone_and_retry_config() -> None:
    job = one(prod(), JOB, "ny-morning-report-job")
    assert (job.inputs["schedule"], job.inputs["timeZone"]) == ("0 7 * * 1-5", "America/New_York"), job.urn
    assert job.inputs["retryConfig"] == {"retryCount": 2, "minBackoffDuration": "60s", "maxBackoffDuration": "240s",
                                         "maxDoublings": 2, "maxRetryDuration": "3600s"}, job.urn


def test_gcp_fixed_backoff_never_doubles() -> None:
    retry = one(prod(), JOB, "berlin-payroll-sync-job").inputs["retryConfig"]
    assert (retry["minBackoffDuration"], retry["maxBackoffDuration"], retry["maxDoublings"]) == ("120s", "120s", 0)


def test_gcp_attempt_deadline_is_at_least_the_function_timeout() -> None:
    cap = prod()
    for job in cap.of_type(JOB):
        fn = one(cap, FN, job.name.replace("-job", "-function"))
        timeout = fn.inputs["serviceConfig"]["timeoutSeconds"]
        assert int(job.inputs["attemptDeadline"].rstrip("s")) >= timeout, job.urn


def test_gcp_job_calls_the_function_with_an_oidc_token_of_the_invoker_account() -> None:
    cap = prod()
    job = one(cap, JOB, "queue-drain-job")
    invoker = one(cap, "gcp:serviceaccount/account:Account", "queue-drain-invoker-sa")
    target = job.inputs["httpTarget"]
    assert target["oidcToken"]["serviceAccountEmail"].startswith(invoker.inputs["accountId"] + "@"), job.urn
    assert target["uri"] == target["oidcToken"]["audience"], job.urn


def test_gcp_function_is_not_public_and_only_the_invoker_may_call_it() -> None:
    cap = prod()
    members = [r for r in cap.registrations if "IamMember" in r.type or "IAMMember" in r.type]
    assert not [r.urn for r in members if r.inputs.get("member") in ("allUsers", "allAuthenticatedUsers")]
    invoker = one(cap, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember", "nightly-ledger-export-invoker")
    assert invoker.inputs["role"] == "roles/run.invoker", invoker.urn
    assert invoker.inputs["member"].startswith("serviceAccount:lsi-prod-nightly-ledger-export@"), invoker.urn


def test_gcp_function_runs_as_its_own_account_with_its_declared_secrets_only() -> None:
    cap = prod()
    svc = one(cap, FN, "nightly-ledger-export-function").inputs["serviceConfig"]
    assert svc["serviceAccountEmail"].startswith("lsr-prod-nightly-ledger-export@")
    assert svc["secretEnvironmentVariables"] == [{"key": "LEDGER_DB_PASSWORD", "projectId": "acme-lockstep-prod",
                                                  "secret": "ledger-db-password", "version": "latest"}]
    access = one(cap, "gcp:secretmanager/secretIamMember:SecretIamMember", "nightly-ledger-export-secret-0-access")
    assert (access.inputs["secretId"], access.inputs["role"]) == ("ledger-db-password",
                                                                  "roles/secretmanager.secretAccessor"), access.urn
    assert access.inputs["member"] == f"serviceAccount:{svc['serviceAccountEmail']}", access.urn


def test_gcp_memory_timeout_and_overlap_land_on_the_service_config() -> None:
    svc = one(prod(), FN, "queue-drain-function").inputs["serviceConfig"]
    assert (svc["availableMemory"], svc["timeoutSeconds"]) == ("256Mi", 120)
    assert (svc["maxInstanceCount"], svc["maxInstanceRequestConcurrency"]) == (1, 1)


def test_gcp_source_object_is_named_by_its_content_digest() -> None:
    cap = prod()
    obj = one(cap, "gcp:storage/bucketObject:BucketObject", "queue-drain-package")
    assert obj.inputs["name"] in obj.inputs["source"].path, obj.urn
    source = one(cap, FN, "queue-drain-function").inputs["buildConfig"]
    assert source["source"]["storageSource"]["object"] == obj.inputs["name"]
    assert (source["runtime"], source["entryPoint"]) == ("python312", "lockstep")


def test_gcp_local_region_override_uses_a_provider_for_that_region() -> None:
    cap = prod()
    fn = one(cap, FN, "inventory-snapshot-function")
    assert fn.inputs["location"] == "us-east1", fn.urn
    assert "pulumi:providers:gcp::gcp-acme-lockstep-prod-us-east1" in fn.provider, fn.provider
    other = one(cap, FN, "queue-drain-function")
    assert "gcp-acme-lockstep-prod-europe-west1" in other.provider, other.provider


def test_gcp_alert_policy_reaches_the_email_channels() -> None:
    cap = prod()
    channel = one(cap, "gcp:monitoring/notificationChannel:NotificationChannel", "queue-drain-notify-0")
    assert channel.inputs["labels"] == {"email_address": "platform-oncall@example.com"}, channel.urn
    alert = one(cap, "gcp:monitoring/alertPolicy:AlertPolicy", "queue-drain-failures-alert")
    assert len(alert.inputs["notificationChannels"]) == 1, alert.urn
    assert 'service_name = "lockstep-prod-queue-drain"' in alert.inputs["conditions"][0]["conditionThreshold"][
        "filter"], alert.urn
