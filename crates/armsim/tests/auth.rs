//! Part 2 in-process: bearer-token authentication, the role map (403 AuthorizationFailed /
//! LinkedAuthorizationFailed), role definitions and assignments (PrincipalNotFound during the replication
//! delay), CORS in both modes, and request-body schema checks.

use armsim::cors::{CorsConfig, CorsMode};
use armsim::roles::RoleGrant;
use armsim::testing::TestIssuer;
use armsim::{SimConfig, SimRequest, SimResponse};
use common::{SUB1, SUB2, T, rg, ua, vmss};
use serde_json::{Value, json};
use std::sync::OnceLock;

mod common;

const ALICE: &str = "0000a11c-0000-4000-8000-000000000001";
const BOB: &str = "0000b0b0-0000-4000-8000-000000000002";
const CAROL: &str = "0000ca01-0000-4000-8000-000000000003";
const NOW_S: u64 = 1_780_000_000;

fn issuer() -> &'static TestIssuer {
    static I: OnceLock<TestIssuer> = OnceLock::new();
    I.get_or_init(|| TestIssuer::new(42))
}

impl T {
    fn new(cfg: SimConfig) -> T {
        T::demo_at(cfg, NOW_S * 1000)
    }
    fn secured(grants: Vec<RoleGrant>) -> T {
        T::new(SimConfig {
            auth: Some(issuer().auth_config()),
            role_map: Some(grants),
            lro_delay_ms: 1_000,
            ..SimConfig::default()
        })
    }
    fn send(&mut self, r: SimRequest) -> SimResponse {
        self.now += 10;
        self.sim.handle(r, self.now)
    }
    fn as_(&mut self, oid: &str, r: SimRequest) -> SimResponse {
        let tok = issuer().token(oid, self.now / 1000);
        self.send(r.header("Authorization", &format!("Bearer {tok}")))
    }
}

fn grant(p: &str, role: &str, scope: &str) -> RoleGrant {
    RoleGrant {
        principal_id: p.into(),
        role: role.into(),
        scope: scope.into(),
    }
}

fn get(url: &str) -> SimRequest {
    SimRequest::new("GET", url)
}

#[test]
fn missing_malformed_and_forged_tokens_get_401_with_www_authenticate() {
    let mut t = T::secured(vec![]);
    let url = "/subscriptions?api-version=2022-12-01";
    let r = t.send(get(url));
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "AuthenticationFailed");
    let w = r.header("WWW-Authenticate").unwrap();
    assert!(
        w.starts_with("Bearer authorization_uri=\"https://sts.windows.net/"),
        "{w}"
    );
    assert!(w.contains("error=\"invalid_token\""), "{w}");
    assert!(w.contains("error_description=\""), "{w}");
    assert!(r.header("x-ms-request-id").is_some());

    let r = t.send(get(url).header("Authorization", "Bearer not-a-jwt"));
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );

    // signed by another key: same claims, wrong signature
    let other = TestIssuer::with_bits(99, 1024);
    let forged = other.token(ALICE, NOW_S);
    let r = t.send(get(url).header("Authorization", &format!("Bearer {forged}")));
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );

    // a tampered payload breaks the signature
    let good = issuer().token(ALICE, NOW_S);
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims = issuer().claims(ALICE, NOW_S);
    claims["oid"] = json!(BOB);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        armsim::auth::b64url_encode(claims.to_string().as_bytes()),
        parts[2]
    );
    let r = t.send(get(url).header("Authorization", &format!("Bearer {tampered}")));
    assert_eq!(r.status, 401);
    // the request log never keeps the token
    assert!(
        t.sim
            .request_log()
            .iter()
            .all(|e| !e.headers.iter().any(|(_, v)| v.contains(&good[..20])))
    );
}

#[test]
fn expiry_audience_issuer_and_not_before_are_checked() {
    let mut t = T::new(SimConfig {
        auth: Some(issuer().auth_config()),
        ..SimConfig::default()
    });
    let url = "/subscriptions?api-version=2022-12-01";
    let with = |c: &Value| format!("Bearer {}", issuer().sign(c));
    // valid: 200 (no role map → no authorization check)
    let c = issuer().claims(ALICE, NOW_S);
    let r = t.send(get(url).header("Authorization", &with(&c)));
    assert_eq!(r.status, 200, "{}", r.body);

    let mut c = issuer().claims(ALICE, NOW_S - 7200);
    c["exp"] = json!(NOW_S - 1000);
    let r = t.send(get(url).header("Authorization", &with(&c)));
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "ExpiredAuthenticationToken");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is earlier than current UTC time")
    );

    let mut c = issuer().claims(ALICE, NOW_S);
    c["aud"] = json!("https://vault.azure.net");
    let r = t.send(get(url).header("Authorization", &with(&c)));
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json()["error"]["code"],
        "InvalidAuthenticationTokenAudience"
    );
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        m.contains("'https://vault.azure.net'")
            && m.contains("'https://management.core.windows.net/'"),
        "{m}"
    );

    // every default ARM audience is accepted, as is an audience array containing one
    for aud in armsim::auth::ARM_AUDIENCES {
        let mut c = issuer().claims(ALICE, NOW_S);
        c["aud"] = json!(aud);
        assert_eq!(
            t.send(get(url).header("Authorization", &with(&c))).status,
            200,
            "{aud}"
        );
    }
    let mut c = issuer().claims(ALICE, NOW_S);
    c["aud"] = json!(["api://x", "https://management.azure.com"]);
    assert_eq!(
        t.send(get(url).header("Authorization", &with(&c))).status,
        200
    );

    let mut c = issuer().claims(ALICE, NOW_S);
    c["iss"] = json!("https://sts.windows.net/someone-else/");
    let r = t.send(get(url).header("Authorization", &with(&c)));
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationTokenTenant"))
    );

    let mut c = issuer().claims(ALICE, NOW_S);
    c["nbf"] = json!(NOW_S + 3600);
    let r = t.send(get(url).header("Authorization", &with(&c)));
    assert_eq!(r.status, 401);

    // a sovereign-cloud audience list replaces the default
    let mut cfg = issuer().auth_config();
    cfg.audiences = vec!["https://management.usgovcloudapi.net/".into()];
    let mut t = T::new(SimConfig {
        auth: Some(cfg),
        ..SimConfig::default()
    });
    let c = issuer().claims(ALICE, NOW_S);
    assert_eq!(
        t.send(get(url).header("Authorization", &with(&c))).status,
        401
    );
    let mut c = issuer().claims(ALICE, NOW_S);
    c["aud"] = json!("https://management.usgovcloudapi.net/");
    assert_eq!(
        t.send(get(url).header("Authorization", &with(&c))).status,
        200
    );
}

#[test]
fn auth_is_off_by_default() {
    let mut t = T::new(SimConfig::default());
    assert_eq!(
        t.send(get("/subscriptions?api-version=2022-12-01")).status,
        200
    );
}

#[test]
fn role_map_gives_403_authorization_failed_with_the_recorded_shape() {
    let mut t = T::secured(vec![
        grant(ALICE, "Reader", &format!("/subscriptions/{SUB1}")),
        grant(BOB, "Virtual Machine Contributor", &rg(SUB1, "rg-web")),
    ]);
    let v = vmss("rg-web", "vmss-api");
    let url = format!("{v}?api-version=2024-11-01");
    assert_eq!(t.as_(ALICE, get(&url)).status, 200);
    let r = t.as_(
        ALICE,
        SimRequest::new("PATCH", &url).json(&json!({"identity": {"type": "SystemAssigned"}})),
    );
    assert_eq!(r.status, 403);
    let e = &r.json()["error"];
    assert_eq!(e["code"], "AuthorizationFailed");
    let m = e["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "The client '04b07795-8ddb-461a-bbee-02f9e1bf7b46' with object id '0000a11c-"
        ),
        "{m}"
    );
    assert!(m.contains("does not have authorization to perform action 'Microsoft.Compute/virtualMachineScaleSets/write' over scope '"), "{m}");
    assert!(m.ends_with("or the scope is invalid. If access was recently granted, please refresh your credentials."), "{m}");
    // the scale set is untouched
    let after = t.as_(ALICE, get(&url)).json();
    assert!(after.get("identity").is_none());

    // Bob may write in rg-web, not in rg-batch, and reads nothing in sub 2
    let r = t.as_(
        BOB,
        SimRequest::new("PATCH", &url).json(&json!({"identity": {"type": "SystemAssigned"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let other = format!("{}?api-version=2024-11-01", vmss("rg-batch", "vmss-legacy"));
    assert_eq!(t.as_(BOB, get(&other)).status, 403);
    let r = t.as_(BOB, get(&format!("/subscriptions/{SUB2}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=2024-11-01")));
    assert_eq!(r.status, 403);
    // a subscription-wide list shows Bob only what he can read (rg-web)
    let r = t.as_(BOB, get(&format!("/subscriptions/{SUB1}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=2024-11-01")));
    assert_eq!(r.status, 200);
    let ids: Vec<String> = r.json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i.contains("/resourcegroups/rg-web/")),
        "{ids:?}"
    );
    // Carol has no role at all: 403 on resources, yet role definitions are readable by every signed-in caller
    assert_eq!(t.as_(CAROL, get(&url)).status, 403);
    let defs = t.as_(
        CAROL,
        get(&format!(
            "/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01"
        )),
    );
    assert_eq!(defs.status, 200);
    assert!(defs.json()["value"].as_array().unwrap().len() >= 7);
}

#[test]
fn linked_authorization_failed_without_managed_identity_operator_on_the_identity() {
    let web = rg(SUB1, "rg-web");
    let idg = rg(SUB1, "rg-identity");
    let mut t = T::secured(vec![
        grant(BOB, "Virtual Machine Contributor", &web),
        grant(ALICE, "Virtual Machine Contributor", &web),
        grant(
            ALICE,
            "Managed Identity Operator",
            &ua("rg-identity", "id-batch"),
        ),
        grant(CAROL, "Contributor", &format!("/subscriptions/{SUB1}")),
    ]);
    let url = format!("{}?api-version=2024-11-01", vmss("rg-web", "vmss-api"));
    let body = json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {ua("rg-identity", "id-batch"): {}}}});
    let r = t.as_(BOB, SimRequest::new("PATCH", &url).json(&body));
    assert_eq!(r.status, 403);
    let e = &r.json()["error"];
    assert_eq!(e["code"], "LinkedAuthorizationFailed");
    let m = e["message"].as_str().unwrap();
    assert!(m.contains("has permission to perform action 'Microsoft.Compute/virtualMachineScaleSets/write' on scope"), "{m}");
    assert!(m.contains("does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '"), "{m}");
    assert!(
        m.contains(&ua("rg-identity", "id-batch"))
            && m.ends_with("or the linked scope(s) are invalid."),
        "{m}"
    );
    // Alice holds Managed Identity Operator on that identity only
    assert_eq!(
        t.as_(ALICE, SimRequest::new("PATCH", &url).json(&body))
            .status,
        200
    );
    let other = format!("{}?api-version=2024-11-01", vmss("rg-web", "vmss-flex"));
    let body2 = json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {ua("rg-identity", "id-keyvault-reader"): {}}}});
    assert_eq!(
        t.as_(ALICE, SimRequest::new("PATCH", &other).json(&body2))
            .json()["error"]["code"],
        "LinkedAuthorizationFailed"
    );
    // removing an identity (null) needs no assign permission
    let rm = json!({"identity": {"type": "None", "userAssignedIdentities": {ua("rg-identity", "id-web"): null}}});
    assert_eq!(
        t.as_(BOB, SimRequest::new("PATCH", &other).json(&rm))
            .status,
        200
    );
    // Contributor at subscription scope includes assign/action
    t.now += 5_000;
    assert_eq!(
        t.as_(CAROL, SimRequest::new("PATCH", &other).json(&body2))
            .status,
        200
    );
    let _ = idg;
}

#[test]
fn role_definitions_list_and_filter_by_name_with_real_guids() {
    let mut t = T::new(SimConfig::default());
    let base = format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions");
    let r = t.send(get(&format!("{base}?api-version=2022-04-01")));
    assert_eq!(r.status, 200);
    let names: Vec<String> = r.json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["properties"]["roleName"].as_str().unwrap().to_string())
        .collect();
    for n in [
        "Reader",
        "Contributor",
        "Virtual Machine Contributor",
        "Managed Identity Operator",
        "Managed Identity Contributor",
        "Storage Blob Data Reader",
        "Key Vault Secrets User",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing");
    }
    let r = t.send(get(&format!(
        "{base}?api-version=2022-04-01&$filter=roleName%20eq%20'Managed%20Identity%20Operator'"
    )));
    let v = r.json()["value"].as_array().unwrap().clone();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["name"], "f1a07417-d97a-45cb-824c-7a7467783830");
    assert_eq!(
        v[0]["id"],
        format!("{base}/f1a07417-d97a-45cb-824c-7a7467783830")
    );
    assert_eq!(v[0]["properties"]["type"], "BuiltInRole");
    let r = t.send(get(&format!(
        "{base}/acdd72a7-3385-48ef-bd42-f606fba81ae7?api-version=2022-04-01"
    )));
    assert_eq!(r.json()["properties"]["roleName"], "Reader");
    let r = t.send(get(&format!(
        "{base}/00000000-0000-0000-0000-000000000000?api-version=2022-04-01"
    )));
    assert_eq!(r.status, 404);
    let r = t.send(get(&format!("{base}?api-version=1999-01-01")));
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (400, Some("InvalidApiVersionParameter"))
    );
}

fn assignment_body(role_guid: &str, principal: &str) -> Value {
    json!({"properties": {"roleDefinitionId": format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"),
        "principalId": principal, "principalType": "ServicePrincipal"}})
}

#[test]
fn role_assignments_put_get_list_delete_at_three_scopes() {
    let mut t = T::new(SimConfig::default());
    // a principal that exists: the system-assigned identity of vmss-web
    let web = t
        .send(get(&format!(
            "{}?api-version=2024-11-01",
            vmss("rg-web", "vmss-web")
        )))
        .json();
    let pid = web["identity"]["principalId"].as_str().unwrap().to_string();
    let reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    let scopes = [
        format!("/subscriptions/{SUB1}"),
        rg(SUB1, "rg-identity"),
        ua("rg-identity", "id-web"),
    ];
    let names = [
        "11111111-aaaa-4aaa-8aaa-000000000001",
        "11111111-aaaa-4aaa-8aaa-000000000002",
        "11111111-aaaa-4aaa-8aaa-000000000003",
    ];
    for (s, n) in scopes.iter().zip(names) {
        let url = format!(
            "{s}/providers/Microsoft.Authorization/roleAssignments/{n}?api-version=2022-04-01"
        );
        let r = t.send(SimRequest::new("PUT", &url).json(&assignment_body(reader, &pid)));
        assert_eq!(r.status, 201, "{}", r.body);
        let b = r.json();
        assert_eq!(b["properties"]["scope"], s.as_str());
        assert_eq!(b["properties"]["principalId"], pid.as_str());
        assert_eq!(b["type"], "Microsoft.Authorization/roleAssignments");
        assert_eq!(t.send(get(&url)).json()["name"], n);
    }
    // If-None-Match: * on an existing assignment name → 412, nothing changed
    let url0 = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
        scopes[0], names[0]
    );
    let r = t.send(
        SimRequest::new("PUT", &url0)
            .header("If-None-Match", "*")
            .json(&assignment_body(reader, &pid)),
    );
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (412, Some("PreconditionFailed"))
    );
    // the same role for the same principal at the same scope under another name → 409
    let dup = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/22222222-aaaa-4aaa-8aaa-000000000009?api-version=2022-04-01",
        scopes[1]
    );
    let r = t.send(SimRequest::new("PUT", &dup).json(&assignment_body(reader, &pid)));
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (409, Some("RoleAssignmentExists"))
    );
    // list at the group: above (subscription), at (group) and below (identity); atScope() drops the one below
    // (only this test's own: the demo seed holds others)
    let list = |t: &mut T, filter: &str| -> Vec<String> {
        let r = t.send(get(&format!(
            "{}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01{filter}",
            scopes[1]
        )));
        r.json()["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .filter(|n| names.contains(&n.as_str()))
            .collect()
    };
    assert_eq!(list(&mut t, "").len(), 3);
    assert_eq!(list(&mut t, "&$filter=atScope()").len(), 2);
    assert_eq!(
        list(&mut t, &format!("&$filter=principalId%20eq%20'{pid}'")).len(),
        3
    );
    assert_eq!(
        list(
            &mut t,
            "&$filter=principalId%20eq%20'00000000-0000-0000-0000-000000000000'"
        )
        .len(),
        0
    );
    // delete
    let url = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
        scopes[2], names[2]
    );
    assert_eq!(t.send(SimRequest::new("DELETE", &url)).status, 200);
    assert_eq!(t.send(get(&url)).status, 404);
    assert_eq!(t.send(SimRequest::new("DELETE", &url)).status, 204);
    // bad inputs
    let r = t.send(SimRequest::new("PUT", &format!("{}/providers/Microsoft.Authorization/roleAssignments/not-a-guid?api-version=2022-04-01", scopes[0])).json(&assignment_body(reader, &pid)));
    assert_eq!(r.json()["error"]["code"], "InvalidRoleAssignmentId");
    let r = t.send(SimRequest::new("PUT", &dup).json(&assignment_body(
        "00000000-1111-4111-8111-000000000000",
        &pid,
    )));
    assert_eq!(r.json()["error"]["code"], "RoleDefinitionDoesNotExist");
    let r = t.send(SimRequest::new("PUT", &dup).json(&json!({"properties": {"principalId": pid}})));
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (400, Some("InvalidRequestContent"))
    );
    let r = t.send(SimRequest::new("PUT", &dup).json(&assignment_body(
        reader,
        "12345678-0000-4000-8000-00000000dead",
    )));
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (400, Some("PrincipalNotFound"))
    );
    let r = t.send(
        SimRequest::new(
            "PUT",
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
                rg(SUB1, "rg-nope"),
                names[0]
            ),
        )
        .json(&assignment_body(reader, &pid)),
    );
    assert_eq!(r.status, 404);
}

#[test]
fn principal_not_found_during_the_replication_delay_for_new_identities() {
    let mut t = T::new(SimConfig {
        principal_delay_ms: 20_000,
        lro_delay_ms: 1_000,
        ..SimConfig::default()
    });
    let reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    // a new user-assigned identity
    let r = t.send(
        SimRequest::new(
            "PUT",
            &format!("{}?api-version=2024-11-30", ua("rg-identity", "id-new")),
        )
        .json(&json!({"location": "westeurope"})),
    );
    assert_eq!(r.status, 201);
    let pid = r.json()["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/33333333-aaaa-4aaa-8aaa-000000000001?api-version=2022-04-01",
        rg(SUB1, "rg-web")
    );
    let r = t.send(SimRequest::new("PUT", &url).json(&assignment_body(reader, &pid)));
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (400, Some("PrincipalNotFound"))
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("replication delay")
    );
    t.now += 10_000;
    assert_eq!(
        t.send(SimRequest::new("PUT", &url).json(&assignment_body(reader, &pid)))
            .status,
        400
    );
    t.now += 10_000;
    assert_eq!(
        t.send(SimRequest::new("PUT", &url).json(&assignment_body(reader, &pid)))
            .status,
        201
    );

    // a new system-assigned identity
    let v = format!("{}?api-version=2024-11-01", vmss("rg-web", "vmss-api"));
    let r =
        t.send(SimRequest::new("PATCH", &v).json(&json!({"identity": {"type": "SystemAssigned"}})));
    let spid = r.json()["identity"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let url2 = url.replace("000000000001", "000000000002");
    assert_eq!(
        t.send(SimRequest::new("PUT", &url2).json(&assignment_body(reader, &spid)))
            .json()["error"]["code"],
        "PrincipalNotFound"
    );
    t.now += 20_001;
    assert_eq!(
        t.send(SimRequest::new("PUT", &url2).json(&assignment_body(reader, &spid)))
            .status,
        201
    );
    // seeded identities are old: no delay
    let seeded = t
        .send(get(&format!(
            "{}?api-version=2024-11-30",
            ua("rg-identity", "id-batch")
        )))
        .json();
    let url3 = url.replace("000000000001", "000000000003");
    let r = t.send(SimRequest::new("PUT", &url3).json(&assignment_body(
        reader,
        seeded["properties"]["principalId"].as_str().unwrap(),
    )));
    assert_eq!(r.status, 201);
}

#[test]
fn cors_generous_and_strict() {
    let origin = "http://localhost:8080";
    for mode in [CorsMode::Generous, CorsMode::Strict] {
        let mut t = T::new(SimConfig {
            cors: CorsConfig {
                origins: vec![origin.into()],
                mode,
            },
            auth: Some(issuer().auth_config()),
            ..SimConfig::default()
        });
        let url = format!("{}?api-version=2024-11-01", vmss("rg-web", "vmss-web"));
        // the preflight needs no token
        let pre = SimRequest::new("OPTIONS", &url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "PATCH")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type,if-match,x-ms-client-request-id",
            );
        let r = t.send(pre);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Access-Control-Allow-Origin"), Some(origin));
        assert!(
            r.header("Access-Control-Allow-Methods")
                .unwrap()
                .contains("PATCH")
        );
        let ah = r
            .header("Access-Control-Allow-Headers")
            .unwrap()
            .to_lowercase();
        for h in [
            "authorization",
            "content-type",
            "if-match",
            "x-ms-client-request-id",
        ] {
            assert!(ah.contains(h), "{h} in {ah}");
        }
        // a preflight from another origin is not allowed
        let r = t.send(
            SimRequest::new("OPTIONS", &url)
                .header("Origin", "http://evil.test")
                .header("Access-Control-Request-Method", "GET"),
        );
        assert!(r.header("Access-Control-Allow-Origin").is_none());
        // both preflights are in the request log, with what the browser asked
        let pre: Vec<_> = t
            .sim
            .request_log()
            .iter()
            .filter(|e| e.method == "OPTIONS")
            .map(|e| {
                let h = |n: &str| {
                    e.headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(n))
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                (h("Origin"), h("Access-Control-Request-Method"), e.status)
            })
            .collect();
        assert_eq!(
            pre,
            vec![
                (origin.to_string(), "PATCH".to_string(), 200),
                ("http://evil.test".to_string(), "GET".to_string(), 200)
            ]
        );
        // actual answers, also the 401
        let tok = issuer().token(ALICE, t.now / 1000);
        let r = t.send(
            get(&url)
                .header("Origin", origin)
                .header("Authorization", &format!("Bearer {tok}")),
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Access-Control-Allow-Origin"), Some(origin));
        let r401 = t.send(get(&url).header("Origin", origin));
        assert_eq!(
            (r401.status, r401.header("Access-Control-Allow-Origin")),
            (401, Some(origin))
        );
        match mode {
            CorsMode::Generous => {
                let e = r.header("Access-Control-Expose-Headers").unwrap();
                for h in [
                    "Azure-AsyncOperation",
                    "Location",
                    "Retry-After",
                    "ETag",
                    "x-ms-request-id",
                    "x-ms-ratelimit-remaining-subscription-reads",
                ] {
                    assert!(e.contains(h), "{h}");
                }
            }
            CorsMode::Strict => assert!(r.header("Access-Control-Expose-Headers").is_none()),
        }
        let r = t.send(
            get(&url)
                .header("Origin", "http://evil.test")
                .header("Authorization", &format!("Bearer {tok}")),
        );
        assert!(r.header("Access-Control-Allow-Origin").is_none());
    }
    // CORS off: no Access-Control headers, OPTIONS is routed as usual
    let mut t = T::new(SimConfig::default());
    let r = t.send(
        SimRequest::new("OPTIONS", "/subscriptions?api-version=2022-12-01")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET"),
    );
    assert!(r.header("Access-Control-Allow-Origin").is_none());
}

#[test]
fn request_bodies_are_checked_against_the_schemas() {
    let mut t = T::new(SimConfig::default());
    let url = format!("{}?api-version=2024-11-01", vmss("rg-web", "vmss-api"));
    for bad in [
        json!({"identity": {"type": 1}}),
        json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": ["x"]}}),
        json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {ua("rg-identity", "id-web"): {"principalId": 5}}}}),
        json!({"tags": {"a": 1}}),
        json!({"zones": "1"}),
        json!({"sku": "big"}),
    ] {
        let r = t.send(SimRequest::new("PATCH", &url).json(&bad));
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = t.send(
        SimRequest::new(
            "PUT",
            &format!("{}?api-version=2024-11-30", ua("rg-identity", "id-x")),
        )
        .json(&json!({"location": "westeurope", "tags": {"k": 1}})),
    );
    assert_eq!(r.status, 400);
    let r = t.send(
        SimRequest::new(
            "PUT",
            &format!("{}?api-version=2024-11-30", ua("rg-identity", "id-x")),
        )
        .json(&json!({"location": 5})),
    );
    assert_eq!(r.status, 400);
    let r = t.send(SimRequest::new("PATCH", &url).json(&json!({"identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {ua("rg-identity", "id-web"): {}}}, "tags": {"env": "x"}})));
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn roles_can_be_granted_and_revoked_at_run_time_over_the_control_endpoint() {
    let mut t = T::new(SimConfig {
        auth: Some(issuer().auth_config()),
        control: true,
        ..SimConfig::default()
    });
    let url = format!("{}?api-version=2024-11-01", vmss("rg-web", "vmss-web"));
    // no role map yet: authentication only
    assert_eq!(t.as_(BOB, get(&url)).status, 200);
    let r = t.send(
        SimRequest::new("POST", "/_armsim/roles")
            .json(&json!({"principalId": ALICE, "role": "Reader", "scope": rg(SUB1, "rg-web")})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // now authorization is on: Alice reads, Bob (no grant) is refused
    assert_eq!(t.as_(ALICE, get(&url)).status, 200);
    assert_eq!(t.as_(BOB, get(&url)).status, 403);
    let r = t.send(SimRequest::new("POST", "/_armsim/roles").json(&json!([{"principalId": BOB, "role": "Contributor", "scope": format!("/subscriptions/{SUB1}")}])));
    // the grants of these two (the demo seed's own role assignments are listed too)
    let people = |v: &Value| -> Vec<Value> {
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["principalId"] == ALICE || g["principalId"] == BOB)
            .cloned()
            .collect()
    };
    assert_eq!(people(&r.json()).len(), 2);
    assert_eq!(t.as_(BOB, get(&url)).status, 200);
    let r = t.send(
        SimRequest::new("POST", "/_armsim/roles")
            .json(&json!({"principalId": BOB, "role": "Chief", "scope": "/"})),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        t.send(SimRequest::new(
            "DELETE",
            &format!("/_armsim/roles?principalId={BOB}")
        ))
        .status,
        204
    );
    assert_eq!(t.as_(BOB, get(&url)).status, 403);
    let g = people(&t.send(get("/_armsim/roles")).json());
    assert_eq!(g.len(), 1);
    assert_eq!(g[0]["principalId"], ALICE);
    assert_eq!(g[0]["role"], "Reader");
}
