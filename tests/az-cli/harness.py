"""The machinery of the Azure CLI layer: armsim over TLS, the real `az` signed in without leaving loopback,
the generated scripts (through identity-core's `plan_scripts` example), the app's own requests, end states.

How `az` reaches armsim (see README.md in this folder):
  * a private AZURE_CONFIG_DIR per test session (never ~/.azure) with a custom cloud `armsim` registered by
    `az cloud register` whose Resource Manager endpoint is the armsim server (https://127.0.0.1:PORT/);
    REQUESTS_CA_BUNDLE = armsim's throw-away CA;
  * sign-in: `az login --identity` through MSAL's App Service managed-identity protocol (IDENTITY_ENDPOINT +
    IDENTITY_HEADER) answered by a loopback token server here with armsim's test token (RS256, verified by
    armsim) — so every ARM request is az -> azure-core/requests -> armsim, with the bearer token az got itself;
  * every request that would leave loopback goes to HTTP(S)_PROXY = a loopback trap that refuses and records
    it (NO_PROXY = 127.0.0.1,localhost); telemetry, survey and upgrade checks are off;
  * the script's `az cloud set --name 'AzureCloud'` and bare `az login` are taken by a PATH shim (the armsim
    cloud stands in for AzureCloud; the session is already signed in); every other `az` call is the real one;
  * azure-core's LRO poll delay without Retry-After (30 s; armsim, like Compute, sends none) is cut to
    POLL_S by a sitecustomize on PYTHONPATH — timing only, no request changes.
"""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SUB = "11111111-1111-4111-8111-111111111111"
TENANT = "72f988bf-0000-4000-8000-00000000a001"  # armsim's TEST_TENANT: the test token's tid
CALLER = "0000a11c-0000-4000-8000-0000000000f1"
RG = "rg-az"
LOC = "westeurope"
COMPUTE_API = "2024-11-01"
MSI_API = "2023-01-31"
AUTHZ_API = "2022-04-01"
POLL_S = 0.3


def ua(name):
    return f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"


STATES = {
    "none": None,
    "sa": {"type": "SystemAssigned"},
    "ua1": {"type": "UserAssigned", "userAssigned": ["id1"]},
    "ua2": {"type": "UserAssigned", "userAssigned": ["id1", "id2"]},
    "sa_ua2": {"type": "SystemAssigned, UserAssigned", "userAssigned": ["id1", "id2"]},
}
KINDS = ("uniform", "flexible", "vm")


def res_name(kind, state):
    return f"{kind[0] if kind != 'vm' else 'vm'}-{state.replace('_', '-')}"


def res_path(kind, name):
    t = "virtualMachines" if kind == "vm" else "virtualMachineScaleSets"
    return f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/{t}/{name}"


def seed():
    """One seed for every cell: a scale set / VM per kind x identity state, three user-assigned identities,
    the legacy extension on a Manual and an Automatic Uniform scale set and on a VM, a subnet for creates."""
    vmss, vms = [], []
    for state, ident in STATES.items():
        for kind in KINDS:
            if kind == "flexible" and ident and "SystemAssigned" in ident["type"]:
                continue
            r = {"name": res_name(kind, state), "location": LOC, "sku": "Standard_D2s_v3", "os": "Linux",
                 "subnet": "vnet/default"}
            if ident:
                r["identity"] = ident
            if kind == "vm":
                vms.append(r)
            else:
                r.update({"capacity": 2, "orchestrationMode": kind.capitalize(), "upgradePolicy": "Automatic"})
                vmss.append(r)
    ext = {"name": "ManagedIdentityExtensionForLinux", "publisher": "Microsoft.ManagedIdentity",
           "type": "ManagedIdentityExtensionForLinux", "typeHandlerVersion": "1.0", "settings": {"port": 50342}}
    for name, mode in (("u-ext-auto", "Automatic"), ("u-ext-manual", "Manual")):
        vmss.append({"name": name, "location": LOC, "sku": "Standard_D2s_v3", "capacity": 2, "os": "Linux",
                     "orchestrationMode": "Uniform", "upgradePolicy": mode, "subnet": "vnet/default",
                     "extensions": [ext]})
    vms.append({"name": "vm-ext", "location": LOC, "sku": "Standard_D2s_v3", "os": "Linux",
                "subnet": "vnet/default", "extensions": [ext]})
    return {
        "tenantId": TENANT, "tenantDisplayName": "az-cli test", "rngSeed": 18,
        "locations": [{"name": LOC, "displayName": "West Europe", "regionalDisplayName": "(Europe) West Europe"}],
        "vmSizes": [{"name": "Standard_D2s_v3", "numberOfCores": 2, "memoryInMb": 8192, "maxDataDiskCount": 4}],
        "subscriptions": [{
            "subscriptionId": SUB, "displayName": "az-cli", "state": "Enabled",
            "resourceGroups": [{
                "name": RG, "location": LOC,
                "userAssignedIdentities": [{"name": n, "location": LOC} for n in ("id1", "id2", "id3")],
                "virtualNetworks": [{"name": "vnet", "addressPrefixes": ["10.0.0.0/16"],
                                     "subnets": [{"name": "default", "addressPrefix": "10.0.0.0/24"}]}],
                "virtualMachineScaleSets": vmss,
                "virtualMachines": vms,
            }],
        }],
    }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """A loopback HTTP server on a thread."""

    def __init__(self, handler):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class TokenServer(_Server):
    """MSAL's App Service managed-identity endpoint: GET ?api-version=2019-08-01&resource=… with
    X-IDENTITY-HEADER → {"access_token", "expires_on", "resource", "token_type"}. Answers the current
    armsim's test token; records every call."""

    def __init__(self, secret):
        self.token = None
        self.calls = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                outer.calls.append({"resource": q.get("resource", [""])[0],
                                    "header_ok": self.headers.get("X-IDENTITY-HEADER") == secret})
                if self.headers.get("X-IDENTITY-HEADER") != secret or not outer.token:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"access_token": outer.token, "expires_on": str(int(time.time()) + 3000),
                                   "resource": q.get("resource", [""])[0], "token_type": "Bearer"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        super().__init__(H)


class OffLoopbackTrap(_Server):
    """HTTP(S)_PROXY for az: any request to a host that is not loopback lands here (NO_PROXY exempts
    127.0.0.1/localhost); it is recorded and refused with 403, so nothing leaves the machine."""

    def __init__(self):
        self.attempts = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def _refuse(self):
                outer.attempts.append(f"{self.command} {self.path}")
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_CONNECT = do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _refuse

            def log_message(self, *a):
                pass

        super().__init__(H)


class Armsim:
    """The armsim binary over TLS on a fixed port (so the registered cloud stays valid), restarted on a fresh
    seed for every run; auth on (armsim's test issuer), the caller Owner of the subscription, control on."""

    def __init__(self, binary, workdir, port):
        self.binary, self.dir, self.port = binary, Path(workdir), port
        self.url = f"https://127.0.0.1:{port}"
        self.ca = str(self.dir / "ca.pem")
        self.seed_file = self.dir / "seed.json"
        self.seed_file.write_text(json.dumps(seed()))
        self.roles_file = self.dir / "roles.json"
        self.roles_file.write_text(json.dumps([{"principalId": CALLER, "role": "Owner", "scope": f"/subscriptions/{SUB}"}]))
        self.proc = None
        self.token = None
        self.s = requests.Session()

    def start(self):
        self.stop()
        for attempt in range(50):
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--seed", str(self.seed_file), "--tls", "--tls-ca-out", self.ca,
                 "--test-token-for", CALLER, "--roles", str(self.roles_file), "--lro-delay-ms", "0", "--control"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = self.proc.stdout.readline().strip()
            if line.startswith("https://"):
                break
            self.proc.wait()
            time.sleep(0.1)  # the port is still held by the previous run
        assert line == self.url, f"armsim did not start on {self.url}: {line!r} {self.proc.stderr.read()}"
        self.token = self.proc.stdout.readline().strip().removeprefix("token ")
        self.s = requests.Session()
        self.s.trust_env = False  # else REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE of the environment replace verify
        self.s.verify = self.ca
        self.s.headers["Authorization"] = f"Bearer {self.token}"
        return self

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    # ---- ARM and control access for the test itself (python requests, not az) ----
    def arm(self, method, path, api=None, body=None, headers=None):
        params = {"api-version": api} if api else None
        return self.s.request(method, self.url + path, params=params, json=body, headers=headers or {})

    def get_json(self, path, api):
        r = self.arm("GET", path, api)
        r.raise_for_status()
        return r.json()

    def log(self):
        return self.s.get(f"{self.url}/_armsim/requests").json()["value"]

    def clear_log(self):
        self.s.delete(f"{self.url}/_armsim/requests").raise_for_status()

    def fault(self, f):
        self.s.post(f"{self.url}/_armsim/faults", json=f).raise_for_status()

    def revoke_all_roles(self):
        self.s.delete(f"{self.url}/_armsim/roles").raise_for_status()

    def grant(self, role, scope):
        self.s.post(f"{self.url}/_armsim/roles", json={"principalId": CALLER, "role": role, "scope": scope}).raise_for_status()

    def apply(self, reqs):
        """The app's own requests, as the plan gives them, over HTTP; follows Azure-AsyncOperation / Location to a
        terminal state. Returns the statuses."""
        out = []
        for r in reqs:
            path = r["path"]
            q = dict(r.get("query") or {})
            headers = dict(r.get("headers") or {})
            data = None
            if r.get("body") is not None:
                headers["Content-Type"] = "application/json"
                data = json.dumps(r["body"])
            resp = self.s.request(r["method"], self.url + path, params=q, headers=headers, data=data)
            out.append(resp.status_code)
            assert resp.status_code < 400, (r, resp.status_code, resp.text)
            poll = resp.headers.get("Azure-AsyncOperation") or (
                resp.headers.get("Location") if resp.status_code == 202 else None)
            for _ in range(100):
                if not poll:
                    break
                st = self.s.get(urllib.parse.urljoin(self.url, poll))
                if st.status_code == 202:
                    time.sleep(0.05)
                    continue
                status = (st.json() if st.text else {}).get("status") or st.json().get("properties", {}).get("provisioningState")
                if status in (None, "Succeeded", "Failed", "Canceled"):
                    assert status in (None, "Succeeded"), st.text
                    break
                time.sleep(0.05)
        return out

    def end_state(self):
        """Identities of every scale set and VM, the user-assigned identities, role assignments and extensions —
        compared between the script's run and the app's request."""
        base = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers"
        state = {}
        for t in ("virtualMachineScaleSets", "virtualMachines"):
            for r in self.get_json(f"{base}/Microsoft.Compute/{t}", COMPUTE_API)["value"]:
                ident = r.get("identity") or {}
                typ = (ident.get("type") or "None").replace(" ", "").lower()
                entry = {
                    "type": typ,
                    "system": bool(ident.get("principalId")),
                    "user": sorted(k.lower() for k in (ident.get("userAssignedIdentities") or {})),
                }
                exts = self.get_json(f"{base}/Microsoft.Compute/{t}/{r['name']}/extensions", COMPUTE_API)["value"]
                entry["extensions"] = sorted(e["name"] for e in exts)
                state[f"{t}/{r['name']}"] = entry
        state["userAssignedIdentities"] = sorted(
            (i["name"], i["location"]) for i in self.get_json(f"{base}/Microsoft.ManagedIdentity/userAssignedIdentities", MSI_API)["value"])
        ras = self.get_json(f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments", AUTHZ_API)["value"]
        state["roleAssignments"] = sorted(
            (a["properties"]["scope"].lower(), a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1],
             a["properties"]["principalId"]) for a in ras)
        return state


def writes(log):
    """The requests a script (or the app) sent that are not reads: method, path, api-version, If-Match /
    If-None-Match, body."""
    out = []
    for e in log:
        if e["method"] in ("GET", "HEAD"):
            continue
        q = urllib.parse.parse_qs(e.get("query") or "")
        h = {k.lower(): v for k, v in e["headers"]}
        body = e.get("body") or None
        try:
            body = json.loads(body) if body else None
        except ValueError:
            pass
        out.append({"method": e["method"], "path": e["path"], "api": (q.get("api-version") or [None])[0],
                    "ifMatch": h.get("if-match"), "ifNoneMatch": h.get("if-none-match"), "body": body,
                    "status": e["status"]})
    return out


class Az:
    """The real Azure CLI (.venv/az) in a private config dir, signed in to armsim through the managed-identity
    protocol; `run_script` runs a generated bash script with the shim first on PATH."""

    def __init__(self, workdir, armsim: Armsim):
        self.dir = Path(workdir)
        self.real = os.environ.get("AZ_CLI") or str(ROOT / ".venv" / "az" / "bin" / "az")
        assert os.path.exists(self.real), "the Azure CLI venv is missing: run scripts/setup-python"
        self.armsim = armsim
        self.config = self.dir / "azure-config"
        self.config.mkdir()
        # az checks its latest version online on the first run in a config dir (handle_version_update ->
        # azcliprod.blob.core.windows.net) and then caches the answer for a day in versionCheck.json: a fresh
        # cache saying "up to date" keeps it offline.
        v = subprocess.run([str(Path(self.real).parent / "python"), "-c",
                            "from azure.cli.core import __version__ as c; from azure.cli.telemetry import __version__ as t; print(c, t)"],
                           capture_output=True, text=True, check=True).stdout.split()
        versions = {"azure-cli": {"local": v[0], "pypi": v[0]}, "core": {"local": v[0], "pypi": v[0]},
                    "telemetry": {"local": v[1], "pypi": v[1]}}
        import datetime
        (self.config / "versionCheck.json").write_text(json.dumps(
            {"versions": versions, "update_time": str(datetime.datetime.now())}))
        self.secret = "az-cli-test-" + os.urandom(8).hex()
        self.tokens = TokenServer(self.secret)
        self.trap = OffLoopbackTrap()
        self.bin = self.dir / "bin"
        self.bin.mkdir()
        self.shim_log = self.dir / "shim.log"
        shim = self.bin / "az"
        shim.write_text(f"""#!/usr/bin/env bash
# test shim: the armsim cloud stands in for AzureCloud, and the session is signed in already
printf '%s\\n' "$*" >> {json.dumps(str(self.shim_log))}
if [ "$#" -eq 4 ] && [ "$1 $2 $3" = 'cloud set --name' ]; then
  [ "$4" = AzureCloud ] || {{ echo "shim: unexpected cloud $4" >&2; exit 3; }}
  exit 0
fi
if [ "$#" -eq 1 ] && [ "$1" = login ]; then exit 0; fi
exec {json.dumps(self.real)} "$@"
""")
        shim.chmod(0o755)
        site = self.dir / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(f"""# test support: azure-core's LRO poll delay without Retry-After (30 s) cut to {POLL_S} s; timing only
try:
    from azure.core.polling import base_polling as _bp
    _orig = _bp._SansIOLROBasePolling._extract_delay
    _bp._SansIOLROBasePolling._extract_delay = lambda self: min(_orig(self), {POLL_S})
except Exception:
    pass
""")
        self.env = {
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "HOME": str(self.dir),
            "AZURE_CONFIG_DIR": str(self.config),
            "REQUESTS_CA_BUNDLE": armsim.ca,
            "AZURE_CORE_COLLECT_TELEMETRY": "no",
            "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_DISABLE_PROGRESS_BAR": "true",
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "AZURE_CORE_LOGIN_EXPERIENCE_V2": "off",
            "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",
            "AZURE_AUTO_UPGRADE_ENABLE": "no",
            "IDENTITY_ENDPOINT": f"http://127.0.0.1:{self.tokens.port}/msi/token",
            "IDENTITY_HEADER": self.secret,
            "HTTP_PROXY": f"http://127.0.0.1:{self.trap.port}",
            "HTTPS_PROXY": f"http://127.0.0.1:{self.trap.port}",
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONPATH": str(site),
            "LANG": "C.UTF-8",
        }

    def az(self, *args, check=True):
        self.tokens.token = self.armsim.token
        p = subprocess.run([self.real, *args], env=self.env, capture_output=True, text=True, timeout=300)
        if check:
            assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
        return p

    def sign_in(self):
        """`az cloud register` the armsim cloud, select it, `az login --identity` (token from the loopback
        managed-identity endpoint), select the subscription."""
        url = self.armsim.url + "/"
        dead = "https://127.0.0.1:9/"  # never contacted: sign-in is managed identity
        self.az("cloud", "register", "--name", "armsim", "--skip-endpoint-discovery",
                "--endpoint-resource-manager", url, "--endpoint-active-directory", dead,
                "--endpoint-active-directory-resource-id", "https://management.core.windows.net/",
                "--endpoint-active-directory-graph-resource-id", dead,
                "--endpoint-microsoft-graph-resource-id", dead, "--endpoint-management", dead,
                "--endpoint-gallery", dead, "--endpoint-vm-image-alias-doc", dead)
        self.az("cloud", "set", "--name", "armsim")
        out = json.loads(self.az("login", "--identity", "--output", "json").stdout)
        self.az("account", "set", "--subscription", SUB)
        return out

    def run_script(self, text):
        self.tokens.token = self.armsim.token
        f = self.dir / "script.sh"
        f.write_text(text)
        t0 = time.monotonic()
        p = subprocess.run(["bash", str(f)], env=self.env, capture_output=True, text=True, timeout=600)
        return p, time.monotonic() - t0

    def close(self):
        self.tokens.close()
        self.trap.close()


_PLAN_BIN = None


def plan_scripts(payload):
    """identity-core's plan + every generated script (examples/plan_scripts.rs)."""
    global _PLAN_BIN
    if _PLAN_BIN is None:
        _PLAN_BIN = os.environ.get("PLAN_SCRIPTS_BIN") or str(ROOT / "target" / "debug" / "examples" / "plan_scripts")
    p = subprocess.run([_PLAN_BIN], input=json.dumps(payload), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)


def cleanup(path):
    shutil.rmtree(path, ignore_errors=True)
