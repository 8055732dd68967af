"""The generated Azure CLI scripts (bash flavours), run for real: azure-cli (pinned, .venv/az) against the
armsim server over TLS. See README.md in this folder and harness.py for how az is pointed at armsim.

Each cell: a fresh armsim on the same seed for (1) the GET the plan is made from, (2) the app's own request(s)
applied over HTTP, (3) each script flavour. The script must exit 0 and reach the app's end state (identities,
user-assigned identities, role assignments, extensions of every resource); where az's requests differ from the
app's (method, api-version, If-Match, body), the difference is recorded as a fact (target/az-cli/facts.json)
and must be one of the differences known in README.md (KNOWN below), never an unexplained one.

Run: scripts/test az-cli (or scripts/test-az-cli).
"""

import json
import os
import re
import tempfile
from pathlib import Path

import pytest

import harness as h
from harness import RG, SUB, ua

ARMSIM_BIN = os.environ.get("ARMSIM_BIN")
FACTS = []
TIMES = []

OPS = {
    "enable_sa": {"op": "enableSystemAssigned"},
    "remove_sa": {"op": "removeSystemAssigned"},
    "add_ua": {"op": "addUserAssigned", "ids": [ua("id3")]},
    "add_existing_ua": {"op": "addUserAssigned", "ids": [ua("id1")]},
    "remove_ua": {"op": "removeUserAssigned", "ids": [ua("id1")]},
    "remove_missing_ua": {"op": "removeUserAssigned", "ids": [ua("id9")]},
    "remove_all": {"op": "removeAll"},
    "set_exact": {"op": "setExact", "systemAssigned": False, "userAssigned": [ua("id2"), ua("id3")]},
}

# scenario -> the state it starts from per kind (one where it changes something, or the no-op / refusal the
# app plans); AZCLI_FULL=1 runs every state x scenario instead.
SCENARIOS = {
    "enable_sa": {"uniform": "ua2", "flexible": "ua1", "vm": "ua2"},
    "remove_sa": {"uniform": "sa_ua2", "flexible": "ua1", "vm": "sa_ua2"},
    "add_ua": {"uniform": "sa", "flexible": "ua1", "vm": "sa"},
    "add_existing_ua": {"uniform": "ua1", "flexible": "ua1", "vm": "ua1"},
    "remove_ua": {"uniform": "sa_ua2", "flexible": "ua2", "vm": "sa_ua2"},
    "remove_last_ua": {"uniform": "ua1", "flexible": "ua1", "vm": "ua1"},
    "remove_missing_ua": {"uniform": "ua1", "flexible": "ua1", "vm": "ua1"},
    "remove_all": {"uniform": "sa_ua2", "flexible": "ua2", "vm": "sa_ua2"},
    "set_exact": {"uniform": "sa_ua2", "flexible": "ua2", "vm": "sa_ua2"},
}


def cells():
    out = []
    if os.environ.get("AZCLI_FULL") == "1":
        for kind in h.KINDS:
            for state in h.STATES:
                if kind == "flexible" and state in ("sa", "sa_ua2"):
                    continue
                for op in OPS:
                    out.append((kind, state, op))
    else:
        for scen, per_kind in SCENARIOS.items():
            for kind, state in per_kind.items():
                out.append((kind, state, "remove_ua" if scen == "remove_last_ua" else scen))
    return out


FLAVOURS = ("cli-bash", "cli-rest-bash")

# Differences between az's requests and the app's that are known and explained (README.md in this folder).
KNOWN = {
    "no If-Match",  # az vmss|vm identity assign/remove cannot send If-Match (the script checks the etag first)
    "no If-None-Match",  # az identity create / role assignment create cannot send it (the script checks first)
    "api-version",  # az uses its SDK's Compute / ManagedIdentity / Authorization api-version
    "PUT for PATCH",  # az vm identity assign/remove sends PUT of the whole VM (the app PATCHes identity only)
    "body",  # az's body is the SDK model's (e.g. whole VM, user-assigned values, principalType)
    "extra write",  # e.g. two PATCHes where the app sends one (assign then remove)
    "missing write",
    "assignment name",  # az role assignment create names the assignment with its own new GUID
    # not "whole-model PUT" (az vmss extension delete: GET + PUT of the whole scale set, no DELETE): the scale-set
    # script sends the app's DELETE with az rest instead, so that difference now fails as unexplained
}


def state_diff(want, got):
    keys = sorted(set(want) | set(got))
    return {k: {"app": want.get(k), "az": got.get(k)} for k in keys if want.get(k) != got.get(k)}


@pytest.fixture(scope="session")
def env():
    if not ARMSIM_BIN or not os.path.exists(ARMSIM_BIN):
        pytest.fail("ARMSIM_BIN must name an armsim binary built with --features tls (see scripts/test-az-cli)")
    d = tempfile.mkdtemp(prefix="az-cli-")
    sim = h.Armsim(ARMSIM_BIN, d, h.free_port()).start()
    az = h.Az(d, sim)
    accounts = az.sign_in()
    yield {"sim": sim, "az": az, "accounts": accounts}
    sim.stop()
    az.close()
    out = h.ROOT / "target" / "az-cli"
    out.mkdir(parents=True, exist_ok=True)
    (out / "facts.json").write_text(json.dumps(FACTS, indent=1))
    (out / "times.json").write_text(json.dumps(TIMES, indent=1))
    h.cleanup(d)


@pytest.fixture(autouse=True)
def nothing_leaves_loopback(env):
    yield
    assert env["az"].trap.attempts == [], f"az tried to leave loopback: {env['az'].trap.attempts}"


def compare(kind, cell, flavour, app_writes, az_writes):
    """Differences between the app's write requests and the script's, as named facts."""
    diffs = []
    app = [w for w in app_writes]
    azw = [w for w in az_writes]
    for i in range(max(len(app), len(azw))):
        a = app[i] if i < len(app) else None
        z = azw[i] if i < len(azw) else None
        if a is None:
            diffs.append(("extra write", f"{z['method']} {z['path']} api-version={z['api']} body={json.dumps(z['body'])}"))
            continue
        if z is None:
            diffs.append(("missing write", f"{a['method']} {a['path']}"))
            continue
        if (a["method"], z["method"]) == ("DELETE", "PUT") and "/extensions/" in a["path"] \
                and a["path"].lower().rsplit("/extensions/", 1)[0] == z["path"].lower():
            exts = ((z["body"] or {}).get("properties", {}).get("virtualMachineProfile", {})
                    .get("extensionProfile", {}).get("extensions"))
            diffs.append(("whole-model PUT", f"app DELETE {a['path'].rsplit('/providers/', 1)[-1]} (api {a['api']}); "
                          f"az PUT of the whole scale set (api {z['api']}, If-Match {z['ifMatch']}) with "
                          f"extensionProfile.extensions = {json.dumps(exts)}"))
            continue
        if a["method"] != z["method"]:
            diffs.append(("PUT for PATCH" if (a["method"], z["method"]) == ("PATCH", "PUT") else "method",
                          f"app {a['method']}, az {z['method']} {z['path']}"))
        if a["path"].lower() != z["path"].lower():
            ra = "/providers/microsoft.authorization/roleassignments/"
            if ra in a["path"].lower() and a["path"].lower().split(ra)[0] == z["path"].lower().split(ra)[0]:
                diffs.append(("assignment name", f"app {a['path'].rsplit('/', 1)[-1]} (the plan's), az {z['path'].rsplit('/', 1)[-1]} (its own new GUID)"))
            else:
                diffs.append(("path", f"app {a['path']}, az {z['path']}"))
        if a["api"] != z["api"]:
            diffs.append(("api-version", f"{z['method']} {z['path'].rsplit('/providers/', 1)[-1]}: app {a['api']}, az {z['api']}"))
        if a["ifMatch"] and not z["ifMatch"]:
            diffs.append(("no If-Match", f"{z['method']} {z['path'].rsplit('/', 1)[-1]}"))
        elif a["ifMatch"] != z["ifMatch"]:
            diffs.append(("If-Match", f"app {a['ifMatch']}, az {z['ifMatch']}"))
        if a["ifNoneMatch"] == "*" and z["ifNoneMatch"] is None:
            diffs.append(("no If-None-Match", f"{z['method']} {z['path'].rsplit('/', 1)[-1]}"))
        elif a["ifNoneMatch"] != z["ifNoneMatch"]:
            diffs.append(("If-None-Match", f"app {a['ifNoneMatch']}, az {z['ifNoneMatch']}"))
        if a["body"] != z["body"]:
            diffs.append(("body", f"app {json.dumps(a['body'], sort_keys=True)}\n     az  {json.dumps(z['body'], sort_keys=True)[:1500]}"))
    for name, detail in diffs:
        FACTS.append({"cell": cell, "flavour": flavour, "kind": kind, "fact": name, "detail": detail})
    return diffs


def run_cell(env, cell, kind, payload, expect_same_requests, flavours=FLAVOURS):
    """Plan on a fresh seed, apply the app's requests on another, run each bash flavour on another; compare."""
    sim, az = env["sim"], env["az"]
    sim.start()
    pre = sim.end_state()
    out = h.plan_scripts(payload(sim))
    plan = out["plan"]
    reqs = plan.get("requests") or []
    if reqs:
        sim.start()
        sim.clear_log()
        sim.apply(reqs)
        app_writes = h.writes(sim.log())
        want = sim.end_state()
    else:
        app_writes, want = [], pre
    for flavour in flavours:
        sim.start()
        sim.clear_log()
        shim_before = az.shim_log.read_text() if az.shim_log.exists() else ""
        p, secs = az.run_script(out["scripts"][flavour])
        TIMES.append({"cell": cell, "flavour": flavour, "seconds": round(secs, 2)})
        if "refused" in plan:
            # a refusal stops with exit 1 and its reason on stderr, before any az call: a pipeline sees the failure
            assert p.returncode == 1, f"{cell} {flavour}: a refusal exited {p.returncode}\n{p.stdout}{p.stderr}"
            assert plan["refused"] in p.stderr, p.stderr
        else:
            assert p.returncode == 0, f"{cell} {flavour}: exit {p.returncode}\n{out['scripts'][flavour]}\n--- stderr\n{p.stderr}"
        log = sim.log()
        assert all(e["status"] < 400 for e in log if e["method"] != "GET"), \
            f"{cell} {flavour}: a write was refused: {[(e['method'], e['path'], e['status'], e['body']) for e in log]}"
        got = sim.end_state()
        assert got == want, f"{cell} {flavour}: end state differs from the app's: {state_diff(want, got)}\n{out['scripts'][flavour]}\n--- writes\n{h.writes(log)}"
        z = h.writes(log)
        if not reqs:
            assert z == [], f"{cell} {flavour}: a no-op / refusal wrote {z}"
            if "refused" in plan:
                assert log == [], f"{cell} {flavour}: a refusal sent {log}"
            continue
        diffs = compare(kind, cell, flavour, app_writes, z)
        unexplained = [d for d in diffs if d[0] not in KNOWN]
        if flavour in expect_same_requests:
            # az rest sends the app's very request; only the read-back differs
            assert diffs == [], f"{cell} {flavour}: az rest differs from the app's request: {diffs}"
        assert unexplained == [], f"{cell} {flavour}: unexplained differences {unexplained}"
        # the script first checks the az version (passed to the real az), then its cloud / login lines (taken
        # by the shim); nothing else was shimmed
        shimmed = az.shim_log.read_text()[len(shim_before):].splitlines()
        assert shimmed[:3] == ['version --query "azure-cli" --output tsv', "cloud set --name AzureCloud", "login"], \
            shimmed[:4]


def _cell_param(kind, state, op):
    return pytest.param(kind, state, op, id=f"{kind}-{state}-{op}")


@pytest.mark.parametrize("kind,state,op", [_cell_param(*c) for c in cells()])
def test_identity_change_script(env, kind, state, op):
    name = h.res_name(kind, state)
    path = h.res_path(kind, name)

    def payload(sim):
        body = sim.get_json(path, h.COMPUTE_API)
        return {"kind": "change", "resource": body, "operation": OPS[op]}

    run_cell(env, f"{kind}/{state}/{op}", kind, payload, expect_same_requests=("cli-rest-bash",))


@pytest.mark.parametrize("name", ["u-ext-auto", "u-ext-manual", "vm-ext"])
def test_remove_legacy_extension_script(env, name):
    kind = "vm" if name.startswith("vm") else "uniform"
    path = h.res_path(kind, name)

    def payload(sim):
        return {"kind": "change", "resource": sim.get_json(path, h.COMPUTE_API),
                "operation": {"op": "removeLegacyExtension", "upgradeInstances": True}}

    run_cell(env, f"{kind}/{name}/remove_extension", kind, payload, expect_same_requests=("cli-rest-bash",))


def test_create_user_assigned_identity_script(env):
    spec = {"subscription": SUB, "resourceGroup": RG, "name": "id-new", "location": h.LOC}
    run_cell(env, "create_user_assigned", "uai", lambda sim: {"kind": "createUserAssigned", "spec": spec},
             expect_same_requests=("cli-rest-bash",))


def test_role_assignment_script(env):
    def payload(sim):
        principal = sim.get_json(ua("id1"), h.MSI_API)["properties"]["principalId"]
        return {"kind": "roleAssignment", "spec": {
            "scope": f"/subscriptions/{SUB}/resourceGroups/{RG}",
            "roleDefinition": "acdd72a7-3385-48ef-bd42-f606fba81ae7",  # Reader
            "principalId": principal, "assignmentName": "3f2504e0-4f89-41d3-9a0c-0305e82c3301"}}

    run_cell(env, "role_assignment", "role", payload, expect_same_requests=("cli-rest-bash",))


SUBNET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"


@pytest.mark.parametrize("orchestration,identity", [
    ("Uniform", {"systemAssigned": True, "userAssigned": [ua("id1")]}),
    ("Flexible", {"systemAssigned": False, "userAssigned": [ua("id1"), ua("id2")]}),
])
def test_create_scale_set_script(env, orchestration, identity):
    """Only the az rest flavour runs: `az vmss create` first resolves the image version
    (…/artifacttypes/vmimage/offers/…/versions) and then deploys an ARM template (Microsoft.Resources/deployments),
    neither of which armsim serves (README.md in this folder). Its options are checked against azure-cli 2.91.0's
    by identity-core's vmss_create_uses_only_options_az_defines."""
    spec = {"subscription": SUB, "resourceGroup": RG, "name": f"vmss-new-{orchestration.lower()}", "location": h.LOC,
            "orchestration": orchestration, "sku": "Standard_D2s_v3", "capacity": 2, "image": "ubuntuLts",
            "subnetId": SUBNET, "adminUsername": "azureuser",
            "adminAuth": {"sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3x me@host"},
            "upgradeMode": "Manual", "identity": identity}
    run_cell(env, f"create_scale_set/{orchestration}", orchestration.lower(),
             lambda sim: {"kind": "createScaleSet", "spec": spec}, expect_same_requests=("cli-rest-bash",),
             flavours=("cli-rest-bash",))


def test_sign_in_used_the_managed_identity_endpoint_on_loopback(env):
    az = env["az"]
    assert [a["id"] for a in env["accounts"]] == [SUB]
    assert env["accounts"][0]["user"]["type"] == "servicePrincipal"
    assert az.tokens.calls and all(c["header_ok"] for c in az.tokens.calls)
    assert {c["resource"] for c in az.tokens.calls} == {"https://management.core.windows.net/"}
    v = json.loads(az.az("version", "--output", "json").stdout)
    assert v["azure-cli"] == "2.91.0"


# ---- failure paths ----

def _plan(sim, kind, name, op):
    body = sim.get_json(h.res_path(kind, name), h.COMPUTE_API)
    return h.plan_scripts({"kind": "change", "resource": body, "operation": op})


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("kind", ["uniform", "vm"])
def test_a_change_after_the_plan_stops_the_script_and_nothing_is_written(env, kind, flavour):
    sim, az = env["sim"], env["az"]
    sim.start()
    name = h.res_name(kind, "ua1")
    out = _plan(sim, kind, name, OPS["add_ua"])
    sim.start()
    sim.fault({"kind": "concurrentWrite", "resourceId": h.res_path(kind, name), "change": {"type": "bumpEtag"},
               "trigger": "now"})
    before = sim.end_state()
    sim.clear_log()
    p, _ = az.run_script(out["scripts"][flavour])
    assert p.returncode != 0, p.stdout + p.stderr
    if flavour == "cli-bash":
        assert "The resource changed since the plan was made; re-plan." in p.stderr
    else:
        assert "PreconditionFailed" in p.stderr, p.stderr
    writes = h.writes(sim.log())
    assert all(w["status"] >= 400 for w in writes), writes  # az rest's PATCH: 412, nothing applied
    assert sim.end_state() == before


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_403_stops_the_script_with_azs_message(env, flavour):
    sim, az = env["sim"], env["az"]
    sim.start()
    out = _plan(sim, "uniform", "u-ua1", OPS["add_ua"])
    sim.start()
    sim.revoke_all_roles()
    sim.grant("Reader", f"/subscriptions/{SUB}")
    before = sim.end_state()
    sim.clear_log()
    p, _ = az.run_script(out["scripts"][flavour])
    assert p.returncode != 0
    assert "AuthorizationFailed" in p.stderr, p.stderr
    assert sim.end_state() == before
    assert [w["status"] for w in h.writes(sim.log())] == [403]


def test_a_flexible_scale_set_refuses_system_assigned(env):
    """The plan refuses (the script says why on stderr and exits 1, sending nothing); az itself asked for it gets
    ARM's refusal from armsim."""
    sim, az = env["sim"], env["az"]
    sim.start()
    out = _plan(sim, "flexible", "f-ua1", OPS["enable_sa"])
    assert "refused" in out["plan"]
    for flavour in FLAVOURS:
        sim.start()
        before = sim.end_state()
        sim.clear_log()
        p, _ = az.run_script(out["scripts"][flavour])
        assert p.returncode == 1, (flavour, p.returncode, p.stdout, p.stderr)
        assert out["plan"]["refused"] in p.stderr, p.stderr
        assert sim.log() == [] and sim.end_state() == before
    p = az.az("vmss", "identity", "assign", "--resource-group", RG, "--name", "f-ua1", "--identities", "[system]",
              check=False)
    assert p.returncode != 0
    writes = h.writes(sim.log())
    assert writes and all(w["status"] == 400 for w in writes), writes
    assert sim.end_state() == before
    FACTS.append({"cell": "flexible/ua1/enable_sa (az directly)", "flavour": "az", "kind": "flexible",
                  "fact": "refusal", "detail": re.sub(r"\s+", " ", p.stderr.strip())[:400]})


def test_a_change_between_the_scripts_check_and_azs_write_is_merged_not_lost(env):
    """The bash script's etag check is not atomic (its comment says so): a change landing right after the check
    is not detected. az identity assign then re-reads and PATCHes only the identity it adds, so nothing is lost."""
    sim, az = env["sim"], env["az"]
    sim.start()
    out = _plan(sim, "uniform", "u-ua1", OPS["add_ua"])
    sim.start()
    sim.fault({"kind": "concurrentWrite", "resourceId": h.res_path("uniform", "u-ua1"), "trigger": "afterNextGet",
               "change": {"type": "identity", "identity": {
                   "type": "UserAssigned", "userAssignedIdentities": {ua("id1"): {}, ua("id2"): {}}}}})
    sim.clear_log()
    p, _ = az.run_script(out["scripts"]["cli-bash"])
    assert p.returncode == 0, p.stderr
    got = sim.end_state()["virtualMachineScaleSets/u-ua1"]
    assert got["user"] == sorted(ua(n).lower() for n in ("id1", "id2", "id3")), got
    patches = [w for w in h.writes(sim.log()) if w["method"] == "PATCH"]
    assert len(patches) == 1 and patches[0]["ifMatch"] is None, patches


def test_a_batch_script_guards_each_item_and_sums_up(env):
    """Issue 17's batch scripts (scripts::batch), run by the real az: enable system-assigned on 3 scale sets — one
    without identity (applied), one with it already (no-op), one Flexible (refused, nothing sent to it). Each flavour
    exits 1 (a refusal), prints the summary, changes only the first, and keeps every other identity."""
    sim, az = env["sim"], env["az"]
    names = [("uniform", "u-none"), ("uniform", "u-sa"), ("flexible", "f-ua1")]
    items = [h.res_path(k, n) for k, n in names]
    out = h.plan_scripts({"kind": "batch", "operation": {"op": "enableSystemAssigned"}, "items": items})
    for flavour in FLAVOURS:
        sim.start()
        before = sim.end_state()
        sim.clear_log()
        p, secs = az.run_script(out["scripts"][flavour])
        TIMES.append({"cell": "batch/enable_sa", "flavour": flavour, "seconds": round(secs, 2)})
        assert p.returncode == 1, (flavour, p.returncode, p.stdout, p.stderr)
        assert "Summary: 1 applied, 1 no-op, 1 refused, 0 failed, of 3." in p.stdout, (flavour, p.stdout, p.stderr)
        assert "Flexible" in p.stderr, p.stderr
        writes = h.writes(sim.log())
        assert writes and all(w["path"].endswith("/u-none") and w["status"] < 400 for w in writes), (flavour, writes)
        after = sim.end_state()
        changed = {k for k in before if before[k] != after[k]}
        assert changed == {"virtualMachineScaleSets/u-none"}, (flavour, state_diff(before, after))
        assert after["virtualMachineScaleSets/u-none"]["system"], after["virtualMachineScaleSets/u-none"]


def test_a_legacy_extension_batch_removes_each_and_upgrades_the_manual_scale_set(env):
    """The batch that removes the retired extension: a Manual scale set (its instances upgraded after), a VM, and a
    scale set without it (no-op). Exit 0, the summary, only their extensions gone, nothing else changed."""
    sim, az = env["sim"], env["az"]
    names = [("uniform", "u-ext-manual"), ("vm", "vm-ext"), ("uniform", "u-none")]
    items = [h.res_path(k, n) for k, n in names]
    out = h.plan_scripts({"kind": "batch", "operation": {"op": "removeLegacyExtension", "upgradeInstances": True},
                          "items": items})
    for flavour in FLAVOURS:
        sim.start()
        before = sim.end_state()
        sim.clear_log()
        p, secs = az.run_script(out["scripts"][flavour])
        TIMES.append({"cell": "batch/remove_legacy", "flavour": flavour, "seconds": round(secs, 2)})
        assert p.returncode == 0, (flavour, p.returncode, p.stdout, p.stderr)
        assert "Summary: 2 applied, 1 no-op, 0 refused, 0 failed, of 3." in p.stdout, (flavour, p.stdout, p.stderr)
        after = sim.end_state()
        changed = {k for k in before if before[k] != after[k]}
        assert changed == {"virtualMachineScaleSets/u-ext-manual", "virtualMachines/vm-ext"}, state_diff(before, after)
        for k in changed:
            assert after[k]["extensions"] == [] and {x: after[k][x] for x in ("type", "system", "user")} == \
                {x: before[k][x] for x in ("type", "system", "user")}, (k, before[k], after[k])
        writes = h.writes(sim.log())
        assert any(w["method"] == "POST" and w["path"].endswith("/u-ext-manual/manualupgrade") for w in writes), writes
        assert all(w["status"] < 400 for w in writes), writes
