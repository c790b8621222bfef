"""stamps-present's exemptions match the provider SDKs: exempt types take no tags/labels, all others do."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from infra.loader import load_repo
from infra.preflight.evaluate import run_capture
from infra.preflight.run import default_builder
from policies.lib import target_of
from policies.rules.stamps_present import UNTAGGABLE
from tests.preview_support import scratch_repo

PACKAGES = {"aws": "pulumi_aws", "azure-native": "pulumi_azure_native", "gcp": "pulumi_gcp"}
STAMP_ARGS = ("tags", "labels", "user_labels")


def sdk_class(token: str) -> type:
    """Return the SDK class of a type token such as 'aws:lambda/function:Function'."""
    package, module, name = token.split(":")
    mod = module.split("/")[0]
    mod = {"lambda": "lambda_"}.get(mod, mod)
    return getattr(importlib.import_module(f"{PACKAGES[package]}.{mod}"), name)  # type: ignore[no-any-return]


def takes_stamps(token: str) -> bool:
    params = inspect.signature(sdk_class(token)._internal_init).parameters  # type: ignore[attr-defined]
    return any(p in params for p in STAMP_ARGS)


def test_every_exempt_type_really_takes_no_tags_or_labels() -> None:
    assert [t for t in sorted(UNTAGGABLE) if takes_stamps(t)] == []


def test_every_type_the_program_deploys_is_stamped_or_exempt(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    result = load_repo(root)
    stack, build = result.stack("staging"), default_builder()
    types = {r.type for wf in result.workflows
             for r in run_capture(lambda wf=wf: build(wf, stack, root, "0" * 40) and None, "staging").registrations
             if r.custom and target_of(r.type) in ("aws", "azure", "gcp")}
    assert [t for t in sorted(types) if t not in UNTAGGABLE and not takes_stamps(t)] == []
