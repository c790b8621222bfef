"""Content-addressed function packages: a deterministic zip of the function's source plus a per-platform shim.

The zip has sorted entries, a fixed timestamp (1980-01-01) and fixed permissions (0644), so the same source and the
same canonical fields always give the same bytes and the same digest, on any machine. The user's code goes under
`app/`; the shim at the root is the platform's entry point and calls the workflow's handler:
  aws    lockstep_handler.py  resolves secret references (Secrets Manager) at cold start, then calls the handler
  azure  function_app.py      Python v2 programming model, timer trigger on "%LOCKSTEP_SCHEDULE%" with the retry
                              policy of LOCKSTEP_RETRY (app settings)
  gcp    main.py              functions-framework HTTP entry that Cloud Scheduler calls with an OIDC token
Every shim calls the handler named by LOCKSTEP_ENTRY, so a package depends on the code alone.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import re
import stat
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from infra.digest import code_files
from infra.errors import LockstepError
from infra.model import Workflow

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
AZURE_FUNCTIONS = "azure-functions==2.3.0"
FUNCTIONS_FRAMEWORK = "functions-framework==3.10.2"
SHIM_HANDLER = {"aws": "lockstep_handler.handler", "gcp": "lockstep"}
KEEP_DAYS = 7.0  # a package no preview or deploy used for this long is pruned ($LOCKSTEP_BUILD_KEEP_DAYS)
BUILT = re.compile(r"^[a-z0-9-]+-[a-z]+-[0-9a-f]{64}(\.zip|\.\d+\.tmp)$")


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


class UnsafeBuildDir(LockstepError):
    """The package directory could be written by someone else, who could then choose what gets deployed."""


def build_dir() -> Path:
    """Return the directory packages are written to: $LOCKSTEP_BUILD_DIR, else this user's cache directory.

    Never a shared, predictable directory: another local user could plant the package that gets deployed.
    """
    chosen = os.environ.get("LOCKSTEP_BUILD_DIR")
    if chosen:
        return Path(chosen)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "lockstep" / "bundles"


def private_dir(path: Path) -> Path:
    """Create the package directory (0700) and refuse one that another user owns or others may write to."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeBuildDir(f"the package directory {path} is owned by uid {info.st_uid} with mode "
                             f"{stat.filemode(info.st_mode)}: another user could plant the package that gets "
                             "deployed — point LOCKSTEP_BUILD_DIR at a directory only you can write (chmod 700)")
    return path


def bundle(wf: Workflow, root: Path, platform: str) -> Bundle:
    """Build (or reuse) the package of a workflow for one platform and return it."""
    files = {f"app/{p.relative_to(root / wf.function.source).as_posix()}": p.read_bytes()
             for p in code_files(root / wf.function.source)}
    files.update(shim_files(platform))
    data = zip_bytes(files)
    digest = hashlib.sha256(data).hexdigest()
    path = private_dir(build_dir()) / f"{wf.name}-{platform}-{digest}.zip"
    if _holds(path, data):
        _touch(path)  # marks it used, so pruning keeps it
    else:  # absent, or not these bytes (a partial or planted file): what is deployed is always what was hashed
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, path)  # atomic: a concurrent build of the same content writes the same bytes
    return Bundle(platform, path, digest)


def _holds(path: Path, data: bytes) -> bool:
    """Tell whether path is a regular file (not a link) holding exactly these bytes."""
    try:
        return not path.is_symlink() and path.is_file() and path.read_bytes() == data
    except OSError:
        return False


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):  # read-only or vanished: the package is still the right bytes
        os.utime(path)


def prune(keep_days: float | None = None, now: float | None = None) -> int:
    """Delete built packages (and partial writes) unused for `keep_days` days; return how many were deleted."""
    if keep_days is None:
        keep_days = float(os.environ.get("LOCKSTEP_BUILD_KEEP_DAYS") or KEEP_DAYS)
    cutoff = (time.time() if now is None else now) - keep_days * 86400
    deleted = 0
    try:
        entries = list(build_dir().iterdir())
    except OSError:
        return 0
    for path in entries:
        try:
            if BUILT.match(path.name) and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except OSError:  # another process pruned or is using it: leave it
            continue
    return deleted


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


def shim_files(platform: str) -> dict[str, bytes]:
    """Return the platform's entry-point files; they read the entry point and settings from the environment."""
    if platform == "aws":
        return {"lockstep_handler.py": _AWS_SHIM.encode()}
    if platform == "azure":
        return {"function_app.py": _AZURE_SHIM.encode(), "host.json": _HOST_JSON.encode(),
                "requirements.txt": f"{AZURE_FUNCTIONS}\n".encode()}
    if platform == "gcp":
        return {"main.py": _GCP_SHIM.encode(), "requirements.txt": f"{FUNCTIONS_FRAMEWORK}\n".encode()}
    raise ValueError(f"no shim for platform {platform!r}")


# The entry point is the LOCKSTEP_ENTRY setting, not baked into the package: what the engine registered (and a live
# reader sees) is what runs, and one package serves every workflow with the same code.
_PRELUDE = '''import importlib
import importlib.util
import json
import os
import sys

_APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "app")
sys.path.insert(0, _APP)
_MODULE, _, _HANDLER = os.environ["LOCKSTEP_ENTRY"].rpartition(".")


def _load_user_module():
    # Loaded under its own name: the GCP shim is itself `main`, the usual name of the user's module.
    if "." in _MODULE:
        return importlib.import_module(_MODULE)
    spec = importlib.util.spec_from_file_location("lockstep_user_" + _MODULE, os.path.join(_APP, _MODULE + ".py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_user_handler = getattr(_load_user_module(), _HANDLER)
'''

_AWS_SHIM = '"""Lockstep Lambda entry (generated): resolve secret references once, then run the handler."""\n' + \
    _PRELUDE + '''
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

# The retry policy is the LOCKSTEP_RETRY app setting (the arguments of `app.retry`), read when the host indexes.
_AZURE_SHIM = '"""Lockstep Azure Functions entry (generated): a timer trigger on an app-setting schedule."""\n' + \
    "import azure.functions as func\n" + _PRELUDE + '''
app = func.FunctionApp()
_RETRY = json.loads(os.environ.get("LOCKSTEP_RETRY") or "{}")


def _with_retry(function):
    return app.retry(**_RETRY)(function) if _RETRY else function


@app.function_name(name="lockstep")
@_with_retry
@app.timer_trigger(schedule="%LOCKSTEP_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
def lockstep(timer: func.TimerRequest) -> None:
    _user_handler({"source": "azure.timer", "past_due": timer.past_due}, None)
'''

# functionTimeout is the AzureFunctionsJobHost__functionTimeout app setting, which overrides host.json.
_HOST_JSON = json.dumps({"version": "2.0", "extensionBundle": {"id": "Microsoft.Azure.Functions.ExtensionBundle",
                                                               "version": "[4.*, 5.0.0)"}},
                        indent=2, sort_keys=True) + "\n"

_GCP_SHIM = '"""Lockstep Cloud Functions entry (generated): Cloud Scheduler calls this over HTTP with OIDC."""\n' + \
    "import functions_framework\n" + _PRELUDE + '''

@functions_framework.http
def lockstep(request):
    _user_handler({"source": "gcp.scheduler", "job": request.headers.get("X-CloudScheduler-JobName")}, None)
    return ("ok", 200)
'''


