"""The warm path does only what a change needs, and says exactly what a full cold run says."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.loader import load_repo
from infra.loadmemo import Memo
from infra.preflight import base as base_rev
from infra.preflight import report_json, report_markdown, report_sarif, report_table
from infra.preflight import run as run_mod
from infra.preflight.cache import Cache
from infra.preflight.evaluate import stack_wide
from policies import pack
from tests.preview_support import REPO, edit, git

FORMATS = {"table": report_table.render, "markdown": report_markdown.render, "json": report_json.render,
           "sarif": report_sarif.render}
TEMPLATE = '''from infra.dsl import cron, workflow

workflow(
    name="gen-{i}",
    schema=1,
    description="Generated workflow {i}.",
    owner="gen@example.com",
    schedule=cron("{i} 3 * * *", tz="UTC"),
    function={{"source": "functions/gen", "entry": "main.handler", "runtime": "python3.12", "memory_mb": 256}},
    retry={{"attempts": 2, "backoff": "fixed", "delay": "1m", "max_delay": "1m", "max_event_age": "1h"}},
    timeout="{timeout}",
    notify=["mailto:gen-oncall@example.com"],
    targets={{"aws": {{}}, "azure": {{}}, "gcp": {{}}, "onprem": {{"host": "batch-01"}}}},
)
'''


class Store(dict[str, object]):
    """A Store kept in memory, passing data through JSON as the preview cache does."""

    def get_data(self, k: str) -> object | None:
        return self.get(k)

    def put_data(self, k: str, data: object) -> None:
        self[k] = json.loads(json.dumps(data))


def generated_repo(root: Path, count: int = 4) -> Path:
    """Write `count` generated workflows sharing one function, plus the two examples, and commit them on main."""
    (root / "workflows" / "functions" / "gen").mkdir(parents=True)
    (root / "workflows" / "functions" / "gen" / "main.py").write_text("def handler(event, context):\n    return 0\n")
    for i in range(count):
        (root / "workflows" / f"gen_{i}.py").write_text(TEMPLATE.format(i=i, timeout="5m"))
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, root / name)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def rendered(result: run_mod.Preview) -> dict[str, str]:
    """Return every format's report; the JSON's stats (seconds, cache counts) tell how the run went, not its result."""
    out = {name: render(result) for name, render in FORMATS.items()}
    data = json.loads(out["json"])
    data["stats"] = {k: v for k, v in data["stats"].items() if k in ("workflows", "resources")}
    out["json"] = json.dumps(data, indent=2)
    return out


def cold_reference(root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> run_mod.Preview:
    """Run the full cold path: empty cache, no loader memo, the whole base tree exported, the stack rule over all."""
    def exported(root_: Path, rev: str, parent: Path, folder: str, keep: set[str] | None,
                 extra: tuple[str, ...] | None = ()) -> Path:
        tree = base_rev.export(root_, rev, parent)
        for path in (tree / folder).glob("*.py"):
            if keep is not None and path.relative_to(tree).as_posix() not in keep and not path.name.startswith("_"):
                path.unlink()
        return tree
    with monkeypatch.context() as m:
        m.setattr(base_rev, "materialize", exported)
        m.setattr(pack, "stack_contenders", lambda _workflows: None)
        m.setattr(run_mod, "Memo", lambda *_a, **_k: None)
        return run_mod.preview(root, "staging", cache_dir=cache)


def test_the_warm_incremental_preview_writes_every_format_byte_for_byte_as_a_cold_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = generated_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    run_mod.preview(root, "staging", cache_dir=cache)  # warms the slices and the loader's memo
    edit(root / "workflows" / "gen_2.py", 'timeout="5m"', 'timeout="6m"')
    edit(root / "workflows" / "gen_3.py", 'cron("3 3 * * *"', 'cron("0 6 * * MON#1"')  # gcp refuses '#'
    warm = run_mod.preview(root, "staging", cache_dir=cache)
    assert warm.stats["cache_misses"] == 2 and warm.stats["cache_hits"] >= 4
    cold = cold_reference(root, tmp_path / "empty-cache", monkeypatch)
    assert cold.stats["cache_misses"] >= cold.stats["workflows"] and cold.blocked and warm.blocked
    assert {v.rule for v in cold.violations if v.blocking} >= {"schedule-equivalence"}
    assert rendered(warm) == rendered(cold)


def test_the_loader_memo_gives_the_same_result_and_notices_a_changed_helper_or_function(tmp_path: Path) -> None:
    root = generated_repo(tmp_path / "repo", count=3)
    (root / "workflows" / "_owners.py").write_text('OWNER = "gen@example.com"\n')
    edit(root / "workflows" / "gen_0.py", "from infra.dsl import cron, workflow\n",
         "from infra.dsl import cron, workflow\nfrom _owners import OWNER\n")
    edit(root / "workflows" / "gen_0.py", 'owner="gen@example.com"', "owner=OWNER")
    store = Store()
    first = load_repo(root, Memo(store))
    memo = Memo(store)
    assert load_repo(root, memo) == first == load_repo(root)
    assert (memo.hits, memo.misses) == (3, 0)
    (root / "workflows" / "_owners.py").write_text('OWNER = "other@example.com"\n')
    memo = Memo(store)
    after = load_repo(root, memo)
    assert (memo.hits, memo.misses) == (2, 1)
    assert [wf.owner for wf in after.workflows if wf.name == "gen-0"] == ["other@example.com"]
    (root / "workflows" / "functions" / "gen" / "main.py").write_text("def handler(event, context):\n    return 1\n")
    memo = Memo(store)
    changed = load_repo(root, memo)
    assert (memo.hits, memo.misses) == (0, 3)
    assert changed == load_repo(root) and changed.workflows[0].code_digest != after.workflows[0].code_digest


def test_a_forged_loader_memo_in_the_cache_directory_is_not_trusted(tmp_path: Path) -> None:
    root = generated_repo(tmp_path / "repo", count=2)
    cache = Cache(tmp_path / "cache")
    load_repo(root, Memo(cache))
    entry = next((tmp_path / "cache").glob("load-memo-*.json"))
    forged = json.loads(entry.read_text())
    forged["body"] = forged["body"].replace("gen@example.com", "evil@example.com")
    entry.write_text(json.dumps(forged))
    reread = Cache(tmp_path / "cache")
    memo = Memo(reread)
    result = load_repo(root, memo)
    assert (memo.hits, reread.rejected) == (0, 1)
    assert {wf.owner for wf in result.workflows} == {"gen@example.com"}


def test_the_stack_rule_fed_only_the_contenders_reports_what_it_reports_over_every_workflow(tmp_path: Path) -> None:
    root = generated_repo(tmp_path / "repo", count=2)
    result = load_repo(root)
    first = result.workflows[0]
    twin = dataclasses.replace(first, name=f"twin-{first.name}")  # same schedule, code and entry: an overlap
    declared = dataclasses.replace(result, workflows=(*result.workflows, twin))
    stack = declared.stack("staging")
    rules = run_mod._rules(declared, stack)
    slices = run_mod._evaluate_all([(wf, "0" * 40) for wf in declared.workflows], stack, root,
                                   run_mod.default_builder(), rules)
    assert pack.stack_contenders(declared.workflows) == {first.name, twin.name}
    full = stack_wide(rules, slices, None)
    assert {d.policy for d in full} == {"no-overlapping-workflows"} and len(full) == 4  # one per target
    assert stack_wide(rules, slices, pack.stack_contenders(declared.workflows)) == full


def test_the_base_revision_is_read_from_only_the_blobs_it_needs(tmp_path: Path) -> None:
    root = generated_repo(tmp_path / "repo", count=3)
    rev = git(root, "rev-parse", "HEAD").strip()
    tree = base_rev.materialize(root, rev, tmp_path, "workflows", {"workflows/gen_1.py"})
    written = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    assert written == ["Pulumi.prod.yaml", "Pulumi.staging.yaml", "Pulumi.yaml", "workflows/functions/gen/main.py",
                       "workflows/gen_1.py"]
    shown = subprocess.run(["git", "-C", str(root), "show", f"{rev}:workflows/gen_1.py"], capture_output=True,
                           check=True).stdout
    assert (tree / "workflows" / "gen_1.py").read_bytes() == shown
