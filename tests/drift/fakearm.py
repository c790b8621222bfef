"""A small local server that answers like Azure Resource Manager, for azure-mgmt-* clients in tests and benchmarks.

PUT / GET / PATCH / DELETE of any resource ID, function-app PUTs as long-running operations (202 with
Azure-AsyncOperation, which the SDK polls), app settings as their own resource (`config/appsettings`, listed by
POST), a subscription-wide resource list filtered by type, and lists of one type in a resource group or the
subscription (`.../providers/<namespace>/<type>`), served `page_size` at a time with ARM's `nextLink`. Paths are
case-insensitive, like ARM's. Every request is counted, so a test can check how many calls a reader made. Every
write is also recorded as an Activity Log event (`eventtypes/management/values`, filtered by time and resource
group or resource), with the caller taken from the bearer token's `upn` claim, as Azure takes it from the token.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
_TYPE = re.compile(r"/providers/([^/]+)/([^/]+)/([^/]+)$")
_UNPAGED = ("microsoft.insights/actiongroups",)  # ARM answers these lists whole: the API defines no nextLink
_COLLECTION = re.compile(r"^/subscriptions/[^/]+(/resourcegroups/[^/]+)?/providers/([^/]+)/([^/]+)$")


class FakeArm:
    """The server: start(), url, reset(), stop(); `store` maps lower-cased resource IDs to resource bodies."""

    def __init__(self) -> None:
        self.store: dict[str, dict[str, Any]] = {}
        self.settings: dict[str, dict[str, str]] = {}
        self.requests: list[tuple[str, str]] = []
        self.activity: list[dict[str, Any]] = []  # Activity Log events of every write, oldest first
        self.fail: dict[str, int] = {}  # lower-cased path fragment -> HTTP status to answer instead
        self.page_size = 100  # items per page of a list
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FakeArm:
        """Serve on a free port of 127.0.0.1 in a daemon thread."""
        arm = self

        class Handler(_Handler):
            fake = arm

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        """Return the base URL."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        """Forget every resource, setting, failure and logged request."""
        with self._lock:
            self.store.clear()
            self.settings.clear()
            self.requests.clear()
            self.activity.clear()
            self.fail.clear()
            self.page_size = 100

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeArm
    disable_nagle_algorithm = True  # else every request stalls ~40 ms (delayed ACK)
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._serve("GET")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path.rstrip("/"), parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        fake = self.fake
        with fake._lock:
            fake.requests.append((method, path))
            failing = next((s for frag, s in fake.fail.items() if frag in path.lower()), None)
            if failing:
                return self._send(failing, {"error": {"code": "Injected", "message": f"injected {failing}"}})
            status, answer, headers = _route(fake, method, path, query, body, self._base())
            if method in ("PUT", "PATCH", "DELETE") and status < 300 and not path.lower().startswith("/operations/"):
                fake.activity.append(_event(method, path, _caller(self.headers.get("Authorization", ""))))
        self._send(status, answer, headers)

    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def _send(self, status: int, answer: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(answer).encode() if answer is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def _route(fake: FakeArm, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any],
           base: str) -> tuple[int, Any, dict[str, str]]:
    key = path.lower()
    if key.startswith("/operations/"):
        return 200, {"status": "Succeeded"}, {}
    if key.endswith("/providers/microsoft.insights/eventtypes/management/values") and method == "GET":
        return 200, {"value": _activity(fake, query.get("$filter", [""])[0])}, {}
    if key.endswith("/config/appsettings/list") and method == "POST":
        site = key.removesuffix("/config/appsettings/list")
        if site not in fake.store:
            return _missing(path)
        return 200, {"name": "appsettings", "properties": fake.settings.get(site, {})}, {}
    if key.endswith("/config/appsettings") and method == "PUT":
        site = key.removesuffix("/config/appsettings")
        fake.settings[site] = dict(body.get("properties") or {})
        return 200, {"name": "appsettings", "properties": fake.settings[site]}, {}
    if key.endswith("/functions") and method == "GET":  # a function app's functions (their function.json)
        return 200, {"value": [r for k, r in fake.store.items() if k.startswith(key + "/")]}, {}
    if "/providers/microsoft.web/sites/" in key and "/functions/" in key and method == "PUT":
        fake.store[key] = {"id": path, "name": path.rsplit("/", 1)[-1], "type": "Microsoft.Web/sites/functions",
                           "properties": dict(body.get("properties") or {})}
        return 201, fake.store[key], {}  # as ARM answers CreateFunction
    if key.endswith("/resources") and method == "GET":
        return 200, {"value": _filtered(fake, query.get("$filter", [""])[0])}, {}
    if method == "PUT":
        return _put(fake, path, key, body, base)
    listed = _COLLECTION.match(key)
    if method == "GET" and listed and key not in fake.store:
        return 200, _page(fake, key, listed, query, base, path), {}
    if key not in fake.store:
        return _missing(path)
    if method == "GET":
        return 200, fake.store[key], {}
    if method == "PATCH":
        current = fake.store[key]
        current["tags"] = {**current.get("tags", {}), **(body.get("tags") or {})}
        current["properties"] = {**current.get("properties", {}), **(body.get("properties") or {})}
        return 200, current, {}
    del fake.store[key]
    fake.settings.pop(key, None)
    return 200, None, {}


def _put(fake: FakeArm, path: str, key: str, body: dict[str, Any], base: str) -> tuple[int, Any, dict[str, str]]:
    found = _TYPE.search(path)
    kind = f"{found.group(1)}/{found.group(2)}" if found else "Microsoft.Resources/resourceGroups"
    props = dict(body.get("properties") or {})
    site_settings = (props.get("siteConfig") or {}).pop("appSettings", None)
    props["provisioningState"] = "Succeeded"
    resource = {"id": path, "name": path.rsplit("/", 1)[-1], "type": kind, "location": body.get("location"),
                "tags": body.get("tags") or {}, "kind": body.get("kind"), "sku": body.get("sku"),
                "properties": props, "identity": body.get("identity")}
    fake.store[key] = resource
    if kind.lower() == "microsoft.web/sites":
        if site_settings is not None:  # like ARM: siteConfig.appSettings become the config/appsettings resource
            fake.settings[key] = {s["name"]: s.get("value", "") for s in site_settings}
        operation = f"{base}/operations/{len(fake.requests)}?api-version=2025-05-01"
        return 202, None, {"Azure-AsyncOperation": operation, "Location": operation, "Retry-After": "0"}
    return 200, resource, {}


def _filtered(fake: FakeArm, expression: str) -> list[dict[str, Any]]:
    wanted = re.search(r"resourceType eq '([^']+)'", expression)
    return [r for r in fake.store.values() if not wanted or r["type"].lower() == wanted.group(1).lower()]


def _page(fake: FakeArm, key: str, listed: re.Match[str], query: dict[str, list[str]], base: str,
          path: str) -> dict[str, Any]:
    """Return one page of the resources of one type under a subscription or resource group, with a nextLink."""
    scope, kind = key.split("/providers/", 1)[0] + "/", f"{listed.group(2)}/{listed.group(3)}"
    items = sorted((r for k, r in fake.store.items() if k.startswith(scope) and r["type"].lower() == kind),
                   key=lambda r: str(r["id"]).lower())
    start, size = int(query.get("$skiptoken", ["0"])[0]), len(items) if kind in _UNPAGED else fake.page_size
    answer: dict[str, Any] = {"value": items[start:start + size]}
    if start + size < len(items):
        version = query.get("api-version", [""])[0]
        answer["nextLink"] = f"{base}{path}?api-version={version}&$skiptoken={start + size}"
    return answer


def _caller(authorization: str) -> str:
    """Return the `upn` claim of a bearer JWT (the test signs nothing: ARM's own check is not emulated)."""
    token = authorization.removeprefix("Bearer ").strip()
    parts = token.split(".")
    if len(parts) != 3:
        return "emulator"
    claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    return str(claims.get("upn") or claims.get("appid") or "emulator")


def _event(method: str, path: str, caller: str) -> dict[str, Any]:
    provider = path.split("/providers/", 1)[1].split("/") if "/providers/" in path else ["Microsoft.Resources",
                                                                                       "x", "resourceGroups"]
    kind = "/".join([provider[0], *provider[1::2]])
    group = re.search(r"/resourceGroups/([^/]+)", path, re.IGNORECASE)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"caller": caller, "eventTimestamp": now, "submissionTimestamp": now, "resourceId": path,
            "resourceGroupName": group.group(1) if group else "", "status": {"value": "Succeeded"},
            "operationName": {"value": f"{kind}/{'delete' if method == 'DELETE' else 'write'}"},
            "eventDataId": f"event-{now}", "category": {"value": "Administrative"}}


def _activity(fake: FakeArm, expression: str) -> list[dict[str, Any]]:
    """Return the events an Activity Log filter selects: eventTimestamp ge/le, resourceGroupName or resourceUri eq."""
    terms = dict((k.lower() + op, v) for k, op, v in re.findall(r"(\w+) (eq|ge|le) '([^']*)'", expression))
    found = []
    for event in fake.activity:
        at = event["eventTimestamp"]
        if ("eventtimestampge" in terms and at < terms["eventtimestampge"]) or (
                "eventtimestample" in terms and at > terms["eventtimestample"]):
            continue
        group = terms.get("resourcegroupnameeq")
        if group is not None and event["resourceGroupName"].lower() != group.lower():
            continue
        if "resourceurieq" in terms and event["resourceId"].lower() != terms["resourceurieq"].lower():
            continue
        found.append(event)
    return found


def _missing(path: str) -> tuple[int, Any, dict[str, str]]:
    return 404, {"error": {"code": "ResourceNotFound", "message": f"The resource {path} was not found."}}, {}
