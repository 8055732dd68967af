"""The official Azure SDK for Python against armsim over TLS, with a static bearer token.

armsim runs as a real server: HTTPS with its throw-away CA (--tls --tls-ca-out), bearer tokens required and
verified (RS256) from armsim's test issuer (--test-token-for), every request authorized against a role map
(--roles: the test principal is Owner of both subscriptions). Where the SDK and the simulator disagree, the
simulator is wrong.

Run: scripts/test-python (builds the binary with the `tls` feature, sets ARMSIM_BIN, runs pytest).
"""

import json
import os
import subprocess
import time
import uuid

import pytest
import requests
from azure.core import MatchConditions
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute.models import (
    UserAssignedIdentitiesValue,
    VirtualMachineScaleSetIdentity,
    VirtualMachineScaleSetUpdate,
)
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.models import Identity
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

SUB1 = "11111111-1111-4111-8111-111111111111"
SUB2 = "22222222-2222-4222-8222-222222222222"
CALLER = "0000a11c-0000-4000-8000-0000000000f1"
SCOPE = ["https://management.azure.com/.default"]


class StaticToken:
    """A TokenCredential that always returns the same bearer token."""

    def __init__(self, token):
        self.token = token
        self.calls = 0

    def get_token(self, *scopes, **kwargs):
        self.calls += 1
        return AccessToken(self.token, int(time.time()) + 3000)


@pytest.fixture(scope="module")
def armsim(tmp_path_factory):
    binary = os.environ.get("ARMSIM_BIN")
    if not binary or not os.path.exists(binary):
        pytest.fail("ARMSIM_BIN must name an armsim binary built with --features tls (see scripts/test-python)")
    d = tmp_path_factory.mktemp("armsim")
    ca = d / "ca.pem"
    roles = d / "roles.json"
    roles.write_text(json.dumps([
        {"principalId": CALLER, "role": "Owner", "scope": f"/subscriptions/{SUB1}"},
        {"principalId": CALLER, "role": "Owner", "scope": f"/subscriptions/{SUB2}"},
    ]))
    proc = subprocess.Popen(
        [binary, "--tls", "--tls-ca-out", str(ca), "--test-token-for", CALLER, "--roles", str(roles),
         "--lro-delay-ms", "600", "--control"],
        stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    token = proc.stdout.readline().strip().removeprefix("token ")
    assert url.startswith("https://127.0.0.1:"), url
    yield {"url": url, "token": token, "ca": str(ca), "proc": proc}
    proc.terminate()
    proc.wait(timeout=10)


def client(cls, env, *args, **kw):
    return cls(StaticToken(env["token"]), *args, base_url=env["url"], credential_scopes=SCOPE,
               connection_verify=env["ca"], polling_interval=0.2, **kw)


def test_list_subscriptions(armsim):
    subs = list(client(SubscriptionClient, armsim).subscriptions.list())
    assert sorted(s.subscription_id for s in subs) == [SUB1, SUB2]
    assert all(s.state == "Enabled" for s in subs)


def test_a_wrong_token_is_refused_with_401(armsim):
    bad = ComputeManagementClient(StaticToken(armsim["token"][:-8] + "AAAAAAAA"), SUB1, base_url=armsim["url"],
                                  credential_scopes=SCOPE, connection_verify=armsim["ca"])
    with pytest.raises(HttpResponseError) as e:
        bad.virtual_machine_scale_sets.get("rg-web", "vmss-web")
    assert e.value.status_code == 401
    assert e.value.error.code == "InvalidAuthenticationToken"


def test_get_a_scale_set(armsim):
    vmss = client(ComputeManagementClient, armsim, SUB1).virtual_machine_scale_sets.get("rg-web", "vmss-web")
    assert vmss.name == "vmss-web"
    assert vmss.identity.type == "SystemAssigned, UserAssigned"
    assert vmss.identity.principal_id
    keys = [k.lower() for k in vmss.identity.user_assigned_identities]
    assert any(k.endswith("/userassignedidentities/id-web") for k in keys)
    assert vmss.etag and vmss.etag.startswith('"')
    assert vmss.orchestration_mode == "Uniform"


def test_begin_update_identity_until_the_poller_completes(armsim):
    compute = client(ComputeManagementClient, armsim, SUB1)
    before = compute.virtual_machine_scale_sets.get("rg-web", "vmss-api")
    assert before.identity is None
    poller = compute.virtual_machine_scale_sets.begin_update(
        "rg-web", "vmss-api",
        VirtualMachineScaleSetUpdate(identity=VirtualMachineScaleSetIdentity(type="SystemAssigned")),
        etag=before.etag, match_condition=MatchConditions.IfNotModified)
    started = time.monotonic()
    result = poller.result(timeout=30)
    assert poller.done() and poller.status().lower() == "succeeded"
    assert time.monotonic() - started >= 0.4  # it really waited for the operation
    assert result.identity.type == "SystemAssigned"
    assert result.identity.principal_id
    assert result.provisioning_state == "Succeeded"
    # what armsim saw: one PATCH with If-Match and an identity-only body, then polls of the operation URL
    log = requests.get(f"{armsim['url']}/_armsim/requests", verify=armsim["ca"]).json()["value"]
    patches = [e for e in log if e["method"] == "PATCH" and e["path"].endswith("/vmss-api")]
    assert len(patches) == 1
    assert dict((k.lower(), v) for k, v in patches[0]["headers"])["if-match"] == before.etag
    assert json.loads(patches[0]["body"]) == {"identity": {"type": "SystemAssigned"}}
    polls = [e for e in log if e["method"] == "GET" and "/operations/" in e["path"] and e["seq"] > patches[0]["seq"]]
    assert len(polls) >= 1
    after = compute.virtual_machine_scale_sets.get("rg-web", "vmss-api")
    assert after.identity.principal_id == result.identity.principal_id
    assert after.etag != before.etag
    # a stale etag is refused
    with pytest.raises(HttpResponseError) as e:
        compute.virtual_machine_scale_sets.begin_update(
            "rg-web", "vmss-api", VirtualMachineScaleSetUpdate(identity=VirtualMachineScaleSetIdentity(type="None")),
            etag=before.etag, match_condition=MatchConditions.IfNotModified).result(timeout=30)
    assert e.value.status_code == 412


def test_create_and_list_user_assigned_identities(armsim):
    msi = client(ManagedServiceIdentityClient, armsim, SUB1)
    created = msi.user_assigned_identities.create_or_update("rg-identity", "id-sdk", Identity(location="westeurope"))
    assert created.name == "id-sdk"
    assert created.principal_id and created.client_id
    names = [i.name for i in msi.user_assigned_identities.list_by_resource_group("rg-identity")]
    assert "id-sdk" in names and "id-web" in names
    assert "id-sdk" in [i.name for i in msi.user_assigned_identities.list_by_subscription()]
    got = msi.user_assigned_identities.get("rg-identity", "id-sdk")
    assert got.client_id == created.client_id


def test_create_a_role_assignment(armsim):
    auth = client(AuthorizationManagementClient, armsim, SUB1)
    scope = f"/subscriptions/{SUB1}/resourceGroups/rg-web"
    reader = list(auth.role_definitions.list(scope, filter="roleName eq 'Reader'"))
    assert [r.role_name for r in reader] == ["Reader"]
    msi = client(ManagedServiceIdentityClient, armsim, SUB1)
    ident = msi.user_assigned_identities.get("rg-identity", "id-batch")
    name = str(uuid.uuid4())
    ra = auth.role_assignments.create(scope, name, RoleAssignmentCreateParameters(
        role_definition_id=reader[0].id, principal_id=ident.principal_id, principal_type="ServicePrincipal"))
    assert ra.name == name
    assert ra.principal_id == ident.principal_id
    assert ra.scope == scope
    listed = list(auth.role_assignments.list_for_scope(scope, filter=f"principalId eq '{ident.principal_id}'"))
    assert [a.name for a in listed] == [name]
    auth.role_assignments.delete(scope, name)
    assert list(auth.role_assignments.list_for_scope(scope, filter=f"principalId eq '{ident.principal_id}'")) == []


def test_assign_a_user_assigned_identity_keeping_the_others(armsim):
    compute = client(ComputeManagementClient, armsim, SUB1)
    msi = client(ManagedServiceIdentityClient, armsim, SUB1)
    before = compute.virtual_machine_scale_sets.get("rg-web", "vmss-web")
    batch = msi.user_assigned_identities.get("rg-identity", "id-batch")
    kept = {k: UserAssignedIdentitiesValue() for k in before.identity.user_assigned_identities}
    kept[batch.id] = UserAssignedIdentitiesValue()
    result = compute.virtual_machine_scale_sets.begin_update(
        "rg-web", "vmss-web",
        VirtualMachineScaleSetUpdate(identity=VirtualMachineScaleSetIdentity(
            type="SystemAssigned, UserAssigned", user_assigned_identities=kept)),
        etag=before.etag, match_condition=MatchConditions.IfNotModified).result(timeout=30)
    ids = {k.lower(): v for k, v in result.identity.user_assigned_identities.items()}
    assert len(ids) == len(before.identity.user_assigned_identities) + 1
    assert ids[batch.id.lower()].principal_id == batch.principal_id
    assert ids[batch.id.lower()].client_id == batch.client_id
    assert result.identity.principal_id == before.identity.principal_id


def test_resource_graph_pages_match_the_resource_lists(armsim):
    compute = {s: client(ComputeManagementClient, armsim, s) for s in (SUB1, SUB2)}
    want = sorted(v.id.lower() for c in compute.values() for v in c.virtual_machine_scale_sets.list_all())
    graph = client(ResourceGraphClient, armsim)
    query = ("resources | where type =~ 'microsoft.compute/virtualmachinescalesets' "
             "| project id, name, type, resourceGroup, subscriptionId, location, identity")
    got, token, pages = [], None, 0
    while True:
        r = graph.resources(QueryRequest(subscriptions=[SUB1, SUB2], query=query,
                                         options=QueryRequestOptions(top=3, skip_token=token)))
        pages += 1
        assert r.total_records == len(want)
        assert r.count == len(r.data) <= 3
        got += [row["id"].lower() for row in r.data]
        token = r.skip_token
        if not token:
            break
    assert sorted(got) == want
    assert pages == -(-len(want) // 3)
    uses = graph.resources(QueryRequest(subscriptions=[SUB1], query=(
        "Resources | where identity.userAssignedIdentities has "
        f"'/subscriptions/{SUB1}/resourcegroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web' "
        "| project id")))
    assert uses.total_records >= 1
    with pytest.raises(HttpResponseError) as e:
        graph.resources(QueryRequest(query="Resources | summarize count() by type"))
    assert e.value.status_code == 400
