"""What a new user meets on the command line: files written as a user would, the CLI run, exit code and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LOCKSTEP = [sys.executable, "-m", "infra.cli"]
REPO = Path(__file__).resolve().parents[1]
KEY_1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE13ASCeGgMfQ08EL4Q1u+wUK64cU20KDFB+tfrrm/+p"
KEY_2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIAjTENzQkrVPKRvQnYhLtneQFrY1lkLeXtxu1diHqaV"
WORKFLOW = '''from infra.dsl import cron, secret, workflow

workflow(
    name="nightly-report",
    schema=1,
    description="A nightly report.",
    owner="team@example.com",
    schedule=cron("{cron}", tz="{tz}"),
    function={{"source": "functions/report", "entry": "main.handler", "runtime": "python3.12"}},
    targets={targets},
)
'''
STACK = '''config:
  lockstep:aws:
    region: eu-central-1
  lockstep:onprem:
    hosts:
{hosts}'''
HOST = '''      - name: {name}
        address: {address}
        user: lockstep
        hostKey: {key}
        scheduler: {scheduler}
        timezone: UTC
'''


def _run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOCKSTEP, *args], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def _write(root: Path, cron: str = "0 3 * * *", tz: str = "UTC", targets: str = '{"aws": {}, "onprem": {}}') -> Path:
    path = root / "workflows" / "nightly_report.py"
    path.write_text(WORKFLOW.format(cron=cron, tz=tz, targets=targets))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small repo: one workflow on aws and on-prem; staging has batch-01 (cron), prod also batch-02 (systemd)."""
    root = tmp_path / "repo"
    (root / "workflows" / "functions" / "report").mkdir(parents=True)
    (root / "workflows" / "functions" / "report" / "main.py").write_text("def handler(event, context):\n    pass\n")
    (root / "Pulumi.yaml").write_text("name: lockstep\nruntime: python\n")
    (root / "Pulumi.staging.yaml").write_text(STACK.format(hosts=HOST.format(name="batch-01", address="10.0.0.1",
                                                                            key=KEY_1, scheduler="cron")))
    (root / "Pulumi.prod.yaml").write_text(STACK.format(hosts=HOST.format(
        name="batch-01", address="10.0.0.1", key=KEY_1, scheduler="cron") + HOST.format(
        name="batch-02", address="10.0.0.2", key=KEY_2, scheduler="systemd")))
    _write(root)
    return root


def _no_crash(result: subprocess.CompletedProcess[str]) -> None:
    assert "internal error" not in result.stdout + result.stderr and "Traceback" not in result.stderr, result.stderr


# 7: no input produces an internal error; a host can exist in one stack only.

def test_a_host_that_a_stack_lacks_is_a_finding_for_validate_and_explain_not_a_crash(repo: Path) -> None:
    _write(repo, targets='{"aws": {}, "onprem": {"host": "batch-02"}}')
    for command in (["validate"], ["explain", "nightly-report"]):
        result = _run(*command, "--root", str(repo))
        _no_crash(result)
        assert result.returncode == 1, result.stderr
        assert ("workflows/nightly_report.py:10: targets.onprem.host: 'batch-02' — is not a host of stack 'staging' "
                "(Pulumi.staging.yaml) — use one of: batch-01") in result.stderr


def test_a_prod_only_host_is_usable_by_naming_the_host_per_stack(repo: Path) -> None:
    _write(repo, targets='{"aws": {}, "onprem": {"host": {"prod": "batch-02"}}}')
    result = _run("validate", "--root", str(repo), "--format", "json")
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["workflows"][0]["stacks"] == {"prod": ["aws", "onprem"], "staging": ["aws"]}
    explained = _run("explain", "nightly-report", "--stack", "prod", "--root", str(repo))
    assert explained.returncode == 0, explained.stderr
    assert "systemd starts the runner" in explained.stdout  # batch-02 is the systemd host


def test_the_gate_deploys_a_prod_only_host_in_prod_and_nothing_on_prem_in_staging(repo: Path) -> None:
    _write(repo, targets='{"aws": {}, "onprem": {"host": {"prod": "batch-02"}}}')
    seen = {}
    for stack in ("prod", "staging"):
        result = _run("preview", "--stack", stack, "--no-base", "--format", "json", "--root", str(repo),
                      env={"LOCKSTEP_NO_CACHE": "1"})
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout)
        assert report["violations"] == []
        seen[stack] = sorted(r["type"] for r in report["resources"] if r["target"] == "onprem")
    assert seen == {"prod": ["lockstep:onprem:Workflow", "pulumi-python:dynamic/lockstep-onprem:Workflow"],
                    "staging": []}


def test_explicit_none_and_a_secret_named_none_are_reported_not_raised(repo: Path) -> None:
    path = _write(repo)
    path.write_text(path.read_text().replace('owner="team@example.com"', "owner=None").replace(
        '"runtime": "python3.12"', '"runtime": "python3.12", "secrets": {"DB_PASSWORD": secret(None)}'))
    result = _run("validate", "--root", str(repo))
    _no_crash(result)
    assert result.returncode == 1
    assert "nightly_report.py:7: owner: None — is required — add owner=... to the declaration" in result.stderr
    assert "function.secrets.DB_PASSWORD: '<redacted 12 characters>' — does not name a secret" in result.stderr


# 8: bad input that used to be accepted.

def test_a_quoted_boolean_does_not_leave_a_target_on(repo: Path) -> None:
    stack = repo / "Pulumi.staging.yaml"
    stack.write_text(stack.read_text().replace("  lockstep:aws:\n", '  lockstep:aws:\n    enabled: "false"\n'))
    result = _run("validate", "--root", str(repo))
    assert result.returncode == 1
    assert "Pulumi.staging.yaml:3: lockstep:aws.enabled: 'false' — must be true or false, unquoted" in result.stderr


def test_a_workflow_file_with_a_utf8_bom_is_accepted_as_python_accepts_it(repo: Path) -> None:
    path = _write(repo)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = _run("validate", "--root", str(repo))
    assert result.returncode == 0, result.stderr


def test_a_legacy_zone_alias_is_warned_with_the_iana_name(repo: Path) -> None:
    _write(repo, tz="EST", cron="0 12 * * *")
    result = _run("validate", "--root", str(repo))
    assert result.returncode == 0, result.stderr
    assert ("warning: workflows/nightly_report.py:8: schedule.tz: 'EST' — is a legacy alias of America/Panama (EST "
            "has no DST: it is UTC-05:00 all year) — write 'America/Panama', or 'America/New_York' for US Eastern "
            "time with DST") in result.stderr


@pytest.mark.parametrize("days", ["0", "-3", "100000"])
def test_schedule_check_refuses_an_empty_or_absurd_horizon_as_a_usage_error(repo: Path, days: str) -> None:
    result = _run("schedule", "check", "--root", str(repo), "--horizon-days", days)
    assert result.returncode == 2
    assert f"--horizon-days {days}: must be between 1 and 3660" in result.stderr


# 9: every stage that can run reports at once; what could not run is named.

def test_checks_that_cannot_run_are_named_with_the_reason(repo: Path) -> None:
    (repo / "workflows" / "broken.py").write_text(
        WORKFLOW.format(cron="0 4 * * *", tz="UTC", targets='{"aws": {}}').replace('"nightly-report"', '"Broken"'))
    _write(repo, targets='{"aws": {}, "onprem": {"host": "batch-02"}}')
    result = _run("validate", "--root", str(repo))
    assert result.returncode == 1
    notes = [line for line in result.stderr.splitlines() if line.startswith("not checked: ")]
    assert notes == [
        "not checked: workflows/broken.py: platform limits, schedule equivalence and overlap were not checked, "
        "because the declaration has errors",
        "not checked: nightly-report: platform limits and schedule equivalence were not checked on stack 'staging', "
        "because its on-prem host is not there"]


def test_a_field_error_and_a_dst_divergence_are_reported_in_the_same_run(repo: Path) -> None:
    path = _write(repo, cron="30 2 * * *", tz="Europe/Berlin", targets='{"aws": {}}')
    path.write_text(path.read_text().replace('"A nightly report."', '""'))
    result = _run("validate", "--root", str(repo))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("workflows/")]
    assert [e.split(" — ")[0] for e in errors] == ["workflows/nightly_report.py:6: description: ''",
                                                   "workflows/nightly_report.py:8: schedule: '30 2 * * *'"], errors
    assert "fires differently on aws (aws): dst-gap" in errors[1]
    assert ("not checked: workflows/nightly_report.py: platform limits and overlap were not checked (schedule "
            "equivalence was), because the declaration has errors") in result.stderr


# 10: the equivalence horizon is anchored at the commit's date and printed with every verdict.

def _git(root: Path, *args: str, date: str = "2026-01-15T12:00:00+00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env, timeout=60)


def test_the_horizon_starts_at_the_commit_date_so_an_old_commit_gets_the_same_verdict(repo: Path) -> None:
    _write(repo, cron="30 2 * * *", tz="Europe/Berlin", targets='{"aws": {}}')
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "report")
    result = _run("validate", "--root", str(repo))
    assert result.returncode == 1
    assert "dst-gap first at 2026-03-29T01:30:00Z" in result.stderr  # the spring after the commit, not after today
    assert "horizon: schedules compared over 400 days from 2026-01-15T12:00Z (the date of commit " in result.stderr
    checked = _run("schedule", "check", "--root", str(repo), "--json")
    assert json.loads(checked.stdout)["horizon"] == {"start": "2026-01-15T12:00:00Z", "days": 400,
                                                     "anchor": json.loads(checked.stdout)["horizon"]["anchor"]}
    _write(repo, cron="30 2 * * *", tz="Europe/Berlin", targets='{"aws": {}, "onprem": {}}')
    dirty = _run("validate", "--root", str(repo))
    assert "(now: the working tree has uncommitted changes to the workflows or stacks)" in dirty.stderr


# 11: messages.

def test_a_cron_nickname_gets_its_five_field_form(repo: Path) -> None:
    _write(repo, cron="@daily")
    result = _run("validate", "--root", str(repo))
    assert ("schedule.expression: '@daily' — is a cron nickname, which not every platform accepts; write "
            "'0 0 * * *' instead") in result.stderr


def test_a_gcp_nth_weekday_refusal_names_the_days_it_would_need() -> None:
    result = _run("schedule", "translate", "--cron", "0 9 * * FRI#2")
    gcp = next(line for line in result.stdout.splitlines() if line.startswith("gcp"))
    assert "'days 8-14 and FRI' cannot be written either" in gcp and "Monday" not in gcp


def test_a_reused_name_is_blamed_on_the_new_file(repo: Path) -> None:
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "report")
    (repo / "workflows" / "another_report.py").write_text(WORKFLOW.format(cron="0 5 * * *", tz="UTC",
                                                                          targets='{"aws": {}}'))
    result = _run("validate", "--root", str(repo))
    assert result.returncode == 1
    assert ("workflows/another_report.py:4: name: 'nightly-report' — is already used by "
            "workflows/nightly_report.py:4") in result.stderr
    assert "workflows/nightly_report.py:4: name:" not in result.stderr


def test_an_unknown_stack_and_a_missing_root_are_usage_errors_that_name_the_real_problem(repo: Path) -> None:
    result = _run("explain", "nightly-report", "--stack", "dev", "--root", str(repo))
    assert result.returncode == 2
    assert "stack 'dev': there is no Pulumi.dev.yaml in " in result.stderr and "stacks here: prod, staging" in \
        result.stderr and "Pulumi.dev.yaml:1" not in result.stderr
    missing = _run("validate", "--root", str(repo / "nowhere"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"lockstep: --root {repo / 'nowhere'}: no such directory"


def test_explain_shows_whole_values_and_never_none(repo: Path) -> None:
    path = _write(repo)
    path.write_text(path.read_text().replace('"runtime": "python3.12"', '"runtime": "python3.12", "env": {'
                                             + ", ".join(f'"VARIABLE_{i}": "value-{i}"' for i in range(8)) + "}"))
    result = _run("explain", "nightly-report", "--root", str(repo))
    assert result.returncode == 0, result.stderr
    assert "VARIABLE_7=value-7" in result.stdout and "…" not in result.stdout and "None" not in result.stdout


def test_schedule_check_names_the_stacks_and_lists_each_pair_once(repo: Path) -> None:
    result = _run("schedule", "check", "--root", str(repo))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("horizon: 400 days from ")
    assert sorted(lines[1:]) == ["OK      [prod, staging] nightly-report on aws: equivalent",
                                 "OK      [prod, staging] nightly-report on onprem: equivalent"]


# 12: a conventional CLI.

def test_version_and_usage_errors_follow_conventions() -> None:
    version = _run("--version")
    assert version.returncode == 0 and version.stdout.startswith("lockstep ")
    bare = _run("schedule")
    assert bare.returncode == 2
    assert "schedule_command" not in bare.stderr and "SUBCOMMAND" in bare.stderr


def test_json_is_honoured_on_error_paths_too(repo: Path) -> None:
    for args in (["validate", "--root", str(repo / "nowhere"), "--json"],
                 ["schedule", "check", "--horizon-days", "0", "--format", "json"],
                 ["explain", "nightly-report", "--stack", "dev", "--root", str(repo), "--format=json"]):
        result = _run(*args)
        data = json.loads(result.stdout)
        assert result.returncode == 2 and data["ok"] is False and data["exit"] == 2, args
        assert data["errors"][0]["message"].startswith("lockstep: ")


def test_an_internal_error_has_its_own_exit_code_and_no_traceback(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from infra import cli

    def broken(_args: object) -> int:
        raise KeyError("bug")

    monkeypatch.delenv("LOCKSTEP_DEBUG", raising=False)
    monkeypatch.setattr(cli, "cmd_validate", broken)
    assert cli.main(["validate", "--root", str(REPO)]) == 70
    assert "internal error: KeyError" in capsys.readouterr().err


OWN_COMMANDS = ("validate", "schedule", "explain", "completion")  # the others document their options themselves


def test_every_option_of_every_command_has_help() -> None:
    import argparse

    from infra.cli import build_parser

    missing: list[str] = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    if path != "lockstep" or name in OWN_COMMANDS:
                        walk(child, f"{path} {name}")
            elif not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "lockstep")
    assert missing == []


def test_bash_completion_completes_commands_options_and_choices(tmp_path: Path) -> None:
    script = _run("completion", "bash")
    assert script.returncode == 0
    (tmp_path / "c.sh").write_text(script.stdout)
    probe = ('source c.sh; complete_at() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _lockstep; '
             'echo "${COMPREPLY[*]}"; }; complete_at lockstep sch; complete_at lockstep schedule f; '
             'complete_at lockstep schedule fires --platform gcp; complete_at lockstep validate --fo')
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert done.stdout.splitlines() == ["schedule", "fires", "gcp-scheduler", "--format"], done.stderr
