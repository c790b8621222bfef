"""The per-resource rules, each on named compliant and violating fixtures, with the exact messages."""

from __future__ import annotations

import json

from policies.rules import artifacts_by_digest, least_privilege, no_public_invoke, stamps_present
from tests.policy_fixtures import reg, run, stamps, workflow

LAMBDA = "aws:lambda/function:Function"
SHA = "ab" * 32


def compliant_lambda() -> dict[str, object]:
    wf = workflow()
    return {"tags": stamps(wf, "aws"), "timeout": 600, "sourceCodeHash": "q83vq83v",
            "code": {"4dabf18193072939515e22adb298388d": "0def7320c3a5731c473e5ecbe6d01bc7",
                     "path": f"/tmp/lockstep-bundles/aws-{SHA}.zip"}}


def test_stamps_present_passes_a_lambda_with_all_five_stamps() -> None:
    assert run(stamps_present.POLICY, [reg(LAMBDA, "fn", compliant_lambda())]) == []


def test_stamps_present_names_every_missing_stamp() -> None:
    violating_unstamped_lambda = reg(LAMBDA, "fn", {"tags": {"team": "x"}})
    assert run(stamps_present.POLICY, [violating_unstamped_lambda]) == [
        "[aws] ?: stamps: fn (aws:lambda/function:Function) lacks lockstep-workflow, lockstep-digest, "
        "lockstep-schema, lockstep-commit, lockstep-target — build it through the workflow's component, which "
        "stamps every resource"]


def test_stamps_present_refuses_a_resource_stamped_for_another_target() -> None:
    props = compliant_lambda()
    props["tags"] = {**stamps(workflow(), "gcp")}
    assert run(stamps_present.POLICY, [reg(LAMBDA, "fn", props)]) == [
        "[aws] nightly-ledger-export: targets: fn is a aws resource stamped lockstep-target='gcp' — stamp the "
        "target it is deployed to"]


def test_stamps_present_skips_types_that_take_no_tags() -> None:
    assert run(stamps_present.POLICY, [reg("aws:iam/rolePolicy:RolePolicy", "p", {"policy": "{}"})]) == []


def test_stamps_present_requires_lockstep_app_settings_on_the_function_app() -> None:
    wf = workflow()
    violating_app = reg("azure-native:web:WebApp", "app", {"tags": stamps(wf, "azure"), "siteConfig": {
        "appSettings": [{"name": "LOCKSTEP_WORKFLOW", "value": wf.name}]}})
    found = run(stamps_present.POLICY, [violating_app])
    assert found[0] == ("[azure] nightly-ledger-export: stamps: app: app setting LOCKSTEP_DIGEST is None, not the "
                        f"tag's {wf.digest!r} — set LOCKSTEP_* app settings from the same stamps")
    assert len(found) == 4


def test_artifacts_by_digest_passes_a_digest_named_package() -> None:
    assert run(artifacts_by_digest.POLICY, [reg(LAMBDA, "fn", compliant_lambda())]) == []


def test_artifacts_by_digest_refuses_a_mutable_key_and_a_missing_hash() -> None:
    violating_lambda = reg(LAMBDA, "fn", {"tags": stamps(workflow(), "aws"), "s3Key": "builds/latest.zip"})
    assert run(artifacts_by_digest.POLICY, [violating_lambda]) == [
        "[aws] nightly-ledger-export: function: fn deploys 'builds/latest.zip', which is not addressed by a sha256 "
        "content digest — publish the package under its digest (infra.bundle)",
        "[aws] nightly-ledger-export: function: fn has no source_code_hash — set it to the package's sha256 so a "
        "changed package is always redeployed"]


def test_no_public_invoke_refuses_a_permission_for_everyone() -> None:
    violating_permission = reg("aws:lambda/permission:Permission", "perm",
                               {"action": "lambda:InvokeFunction", "principal": "*", "function": "fn"})
    assert run(no_public_invoke.POLICY, [violating_permission]) == [
        "[aws] ?: access: perm grants lambda:InvokeFunction to principal '*' — only the platform's scheduler, "
        "through its own identity, may invoke a workflow",
        "[aws] ?: access: perm has no source_arn, so any caller of the service may invoke — only the platform's "
        "scheduler, through its own identity, may invoke a workflow"]


def test_no_public_invoke_refuses_all_users_on_gcp_and_passes_the_scheduler_account() -> None:
    violating_member = reg("gcp:cloudrunv2/serviceIamMember:ServiceIamMember", "pub",
                           {"role": "roles/run.invoker", "member": "allUsers"})
    compliant_member = reg("gcp:cloudrunv2/serviceIamMember:ServiceIamMember", "inv",
                           {"role": "roles/run.invoker", "member": "serviceAccount:x@p.iam.gserviceaccount.com"})
    assert run(no_public_invoke.POLICY, [violating_member, compliant_member]) == [
        "[gcp] ?: access: pub grants roles/run.invoker to allUsers — only the platform's scheduler, through its own "
        "identity, may invoke a workflow"]


def test_least_privilege_refuses_wildcard_actions() -> None:
    doc = {"Statement": [{"Effect": "Allow", "Action": ["s3:*", "logs:PutLogEvents"], "Resource": "*"}]}
    violating_policy = reg("aws:iam/rolePolicy:RolePolicy", "exec", {"policy": json.dumps(doc)})
    assert run(least_privilege.POLICY, [violating_policy]) == [
        "[aws] ?: access: exec allows action 's3:*' — grant only the named actions the workflow needs, on its own "
        "resources"]


def test_least_privilege_refuses_the_azure_owner_role_and_passes_a_data_role() -> None:
    owner = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
    violating_assignment = reg("azure-native:authorization:RoleAssignment", "own", {"roleDefinitionId": owner})
    compliant_assignment = reg("azure-native:authorization:RoleAssignment", "blob", {
        "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/b7e6dc6d-f1e8-4753-8033-0f276bb0955b"})
    assert run(least_privilege.POLICY, [violating_assignment, compliant_assignment]) == [
        "[azure] ?: access: own assigns the built-in Owner role — grant only the named actions the workflow needs, "
        "on its own resources"]
