"""Content-addressed function packages: a deterministic zip of the function's source plus a per-platform shim.

The zip has sorted entries, a fixed timestamp (1980-01-01) and fixed permissions (0644), so the same source and the
same canonical fields always give the same bytes and the same digest, on any machine. The user's code goes under
`app/`; the shim at the root is the platform's entry point and calls the workflow's handler:
  aws    lockstep_handler.py  resolves secret references (Secrets Manager) at cold start, then calls the handler
  azure  function_app.py      Python v2 programming model, timer trigger on "%LOCKSTEP_SCHEDULE%" (an app setting),
                              the retry policy; host.json carries functionTimeout
  gcp    main.py              functions-framework HTTP entry that Cloud Scheduler calls with an OIDC token
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from infra.digest import code_files
from infra.model import Workflow

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
AZURE_FUNCTIONS = "azure-functions==2.3.0"
FUNCTIONS_FRAMEWORK = "functions-framework==3.10.2"
SHIM_HANDLER = {"aws": "lockstep_handler.handler", "gcp": "lockstep"}


@dataclass(frozen=True)
class Bundle:
    """A built package: where it is on disk and its content digest."""

    platform: str
    path: Path
    sha256: str

    @property
    def sha256_b64(self) -> str:
        """Return the digest base64-encoded (Lambda's source_code_hash form)."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()

    @property
    def object_name(self) -> str:
        """Return the content-addressed object name for a blob store."""
        return f"{self.platform}-{self.sha256}.zip"


def build_dir() -> Path:
    """Return the directory packages are written to ($LOCKSTEP_BUILD_DIR, else the system temp dir)."""
    return Path(os.environ.get("LOCKSTEP_BUILD_DIR") or Path(tempfile.gettempdir()) / "lockstep-bundles")


def bundle(wf: Workflow, root: Path, platform: str) -> Bundle:
    """Build (or reuse) the package of a workflow for one platform and return it."""
    files = {f"app/{p.relative_to(root / wf.function.source).as_posix()}": p.read_bytes()
             for p in code_files(root / wf.function.source)}
    files.update(shim_files(wf, platform))
    data = zip_bytes(files)
    digest = hashlib.sha256(data).hexdigest()
    path = build_dir() / f"{wf.name}-{platform}-{digest}.zip"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, path)  # atomic: a concurrent build of the same content writes the same bytes
    return Bundle(platform, path, digest)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """Return a deterministic zip of the files (sorted names, fixed time and mode)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=9)
    return out.getvalue()


def shim_files(wf: Workflow, platform: str) -> dict[str, bytes]:
    """Return the platform's entry-point files for a workflow."""
    if platform == "aws":
        return {"lockstep_handler.py": _aws_shim(wf).encode()}
    if platform == "azure":
        return {"function_app.py": _azure_shim(wf).encode(), "host.json": _host_json(wf).encode(),
                "requirements.txt": f"{AZURE_FUNCTIONS}\n".encode()}
    if platform == "gcp":
        return {"main.py": _gcp_shim(wf).encode(), "requirements.txt": f"{FUNCTIONS_FRAMEWORK}\n".encode()}
    raise ValueError(f"no shim for platform {platform!r}")


_PRELUDE = '''import importlib
import importlib.util
import os
import sys

_APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "app")
sys.path.insert(0, _APP)


def _load_user_module():
    # Loaded under its own name: the GCP shim is itself `main`, the usual name of the user's module.
    if "." in {module!r}:
        return importlib.import_module({module!r})
    spec = importlib.util.spec_from_file_location("lockstep_user_{module}", os.path.join(_APP, {file!r}))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_user_handler = getattr(_load_user_module(), {handler!r})
'''


def _prelude(wf: Workflow) -> str:
    fn = wf.function
    return _PRELUDE.format(module=fn.module, file=fn.module.replace(".", "/") + ".py", handler=fn.handler)


def _aws_shim(wf: Workflow) -> str:
    return '"""Lockstep Lambda entry (generated): resolve secret references once, then run the handler."""\n' + \
        "import json\n" + _prelude(wf) + '''
_resolved = False


def _resolve_secrets() -> None:
    refs = json.loads(os.environ.get("LOCKSTEP_SECRETS", "{}"))
    if refs:
        import boto3
        client = boto3.client("secretsmanager")
        for key, secret_id in refs.items():
            os.environ[key] = client.get_secret_value(SecretId=secret_id)["SecretString"]


def handler(event, context):
    global _resolved
    if not _resolved:
        _resolve_secrets()
        _resolved = True
    return _user_handler(event, context)
'''


def _azure_retry(wf: Workflow) -> str:
    r = wf.retry
    if r.attempts <= 1:
        return ""
    if r.backoff == "fixed":
        return (f'@app.retry(strategy="fixed_delay", max_retry_count="{r.attempts - 1}", '
                f'delay_interval="{timespan(r.delay_s)}")\n')
    return (f'@app.retry(strategy="exponential_backoff", max_retry_count="{r.attempts - 1}", '
            f'minimum_interval="{timespan(r.delay_s)}", maximum_interval="{timespan(r.max_delay_s)}")\n')


def _azure_shim(wf: Workflow) -> str:
    return '"""Lockstep Azure Functions entry (generated): a timer trigger whose schedule is an app setting."""\n' + \
        "import azure.functions as func\n" + \
        _prelude(wf) + '''
app = func.FunctionApp()


@app.function_name(name="lockstep")
''' + _azure_retry(wf) + '''@app.timer_trigger(schedule="%LOCKSTEP_SCHEDULE%", arg_name="timer", run_on_startup=False,
                   use_monitor=True)
def lockstep(timer: func.TimerRequest) -> None:
    _user_handler({"source": "azure.timer", "past_due": timer.past_due}, None)
'''


def _host_json(wf: Workflow) -> str:
    return json.dumps({"version": "2.0", "functionTimeout": timespan(wf.timeout_s),
                       "extensionBundle": {"id": "Microsoft.Azure.Functions.ExtensionBundle",
                                           "version": "[4.*, 5.0.0)"}}, indent=2, sort_keys=True) + "\n"


def _gcp_shim(wf: Workflow) -> str:
    return '"""Lockstep Cloud Functions entry (generated): Cloud Scheduler calls this over HTTP with OIDC."""\n' + \
        "import functions_framework\n" + \
        _prelude(wf) + '''

@functions_framework.http
def lockstep(request):
    _user_handler({"source": "gcp.scheduler", "job": request.headers.get("X-CloudScheduler-JobName")}, None)
    return ("ok", 200)
'''


def timespan(seconds: int) -> str:
    """Return seconds as a .NET TimeSpan string (hh:mm:ss), as Azure settings expect."""
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
