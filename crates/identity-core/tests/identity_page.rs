//! The identity page's focused queries and scripts (issue 16): one user-assigned identity, who uses it across the
//! tenant and its principal's role assignments — the rows keep the inventory's shapes, so the model reads them;
//! the scripts parse, run the same queries, page and batch, and put only checked values into a query.

use identity_core::inventory::Inventory;
use identity_core::inventory::queries::{
    COMPUTE, IDENTITIES, PRINCIPAL_ASSIGNMENTS_PREFIX, ROLE_DEFINITIONS_PREFIX,
    ROLE_DEFINITIONS_SUFFIX, identity_row, identity_users, principal_assignments_suffix,
    role_assignments_of,
};
use identity_core::inventory::scripts::{self, identity_bash, identity_powershell};
use identity_core::route::Route;
use identity_core::scripts::Cloud;
use serde_json::json;

mod support;

const UA: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";
const PRINCIPAL: &str = "4a5b6c7d-0000-4000-8000-0000000000aa";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

#[test]
fn the_route_of_an_identity_page_is_its_id_and_round_trips() {
    let r = Route::Identity { id: UA.into() };
    assert_eq!(r.href(), UA);
    assert_eq!(Route::parse(&r.path(), &r.query()), r);
    assert_eq!(
        Route::parse(&UA.to_lowercase(), ""),
        Route::Identity {
            id: UA.to_lowercase()
        }
    );
}

/// What the focused queries return (rows in the inventory's shapes) builds the same model as the full load.
#[test]
fn focused_rows_build_the_model_the_page_reads() {
    let vmss = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web";
    let vm = "/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-dev/providers/Microsoft.Compute/virtualMachines/vm-dev-2";
    let users = vec![
        // ARG lower-cases the map's keys of some resources: ids match ignoring case
        json!({"id": vmss, "name": "vmss-web", "type": "microsoft.compute/virtualmachinescalesets",
            "subscriptionId": "11111111-1111-4111-8111-111111111111", "resourceGroup": "rg-web", "location": "westeurope",
            "orchestrationMode": "Uniform", "identity": {"type": "SystemAssigned, UserAssigned", "principalId": "p",
            "userAssignedIdentities": {UA.to_lowercase(): {}}}}),
        json!({"id": vm, "name": "vm-dev-2", "type": "microsoft.compute/virtualmachines",
            "subscriptionId": "22222222-2222-4222-8222-222222222222", "resourceGroup": "rg-dev", "location": "westeurope",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {UA: {}}}}),
    ];
    let identity = vec![
        json!({"id": UA, "name": "id-web", "subscriptionId": "11111111-1111-4111-8111-111111111111",
        "resourceGroup": "rg-identity", "location": "westeurope", "principalId": PRINCIPAL, "clientId": "c"}),
    ];
    let ras = vec![
        json!({"id": "/subscriptions/11111111-1111-4111-8111-111111111111/providers/Microsoft.Authorization/roleAssignments/a1",
            "principalId": PRINCIPAL, "principalType": "ServicePrincipal",
            "roleDefinitionId": format!("/subscriptions/11111111-1111-4111-8111-111111111111/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
            "scope": "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web", "condition": ""}),
    ];
    let defs = vec![
        json!({"id": format!("/subscriptions/11111111-1111-4111-8111-111111111111/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
        "name": READER, "roleName": "Reader"}),
    ];
    let subs = [
        (
            "11111111-1111-4111-8111-111111111111".to_string(),
            "Contoso Production".to_string(),
        ),
        (
            "22222222-2222-4222-8222-222222222222".to_string(),
            "Contoso Dev/Test".to_string(),
        ),
    ];
    let inv = Inventory::from_rows(&subs, &users, &identity, &ras, &defs);
    let names: Vec<(&str, &str, &str)> = inv
        .users_of(&UA.to_uppercase())
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.kind.label(),
                r.subscription_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("vmss-web", "Uniform", "Contoso Production"),
            ("vm-dev-2", "VM", "Contoso Dev/Test")
        ]
    );
    let i = inv.identity(UA).unwrap();
    assert_eq!(
        (i.name.as_str(), i.subscription_name.as_str()),
        ("id-web", "Contoso Production")
    );
    let a = inv.assignments_of(&PRINCIPAL.to_uppercase());
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].role_name.as_deref(), Some("Reader"));
    assert_eq!(a[0].condition, None);
}

#[test]
fn the_powershell_script_parses_and_runs_the_page_queries() {
    for cloud in Cloud::ALL {
        let s = identity_powershell(cloud, UA).unwrap();
        assert_eq!(support::syntax_errors(&s), Vec::<String>::new(), "{s}");
        assert!(s.contains("ModuleName = 'Az.ResourceGraph'; ModuleVersion = '0.10.0'"));
        assert_eq!(
            support::assignments(&s, "identityQuery"),
            [identity_row(UA).unwrap()]
        );
        assert_eq!(
            support::assignments(&s, "usersQuery"),
            [identity_users(UA).unwrap()]
        );
        assert_eq!(
            support::assignments(&s, "roleAssignmentsPrefix"),
            [PRINCIPAL_ASSIGNMENTS_PREFIX]
        );
        assert_eq!(
            support::assignments(&s, "roleAssignmentsSuffix"),
            [principal_assignments_suffix()]
        );
        assert_eq!(
            support::assignments(&s, "roleDefinitionsPrefix"),
            [ROLE_DEFINITIONS_PREFIX]
        );
        assert_eq!(
            support::assignments(&s, "roleDefinitionsSuffix"),
            [ROLE_DEFINITIONS_SUFFIX]
        );
        assert!(s.contains(
            "Search-AzGraph -Query $Query -Subscription $batch -First 1000 -SkipToken $skipToken"
        ));
        // the principal goes into a query only once it matched the GUID pattern
        let check = s.find("if ($principalId -match '^[0-9a-f]{8}-").unwrap();
        let used = s
            .find("$roleAssignmentsPrefix + \"'\" + $principalId")
            .unwrap();
        assert!(check < used);
        let undefined: Vec<String> = support::undefined_variables(&s)
            .into_iter()
            .filter(|v| v != "$query")
            .collect();
        assert_eq!(undefined, Vec::<String>::new());
        assert_eq!(s.contains("-Environment"), cloud != Cloud::AzureCloud);
    }
}

#[test]
fn ids_that_cannot_go_into_a_query_give_no_script() {
    for id in [
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x'; Remove-Item x",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/x",
        "not an id",
    ] {
        assert_eq!(identity_powershell(Cloud::AzureCloud, id), None, "{id}");
        assert_eq!(identity_bash(Cloud::AzureCloud, id), None, "{id}");
    }
}

/// Runs the bash script against a fake `az` (one that answers each query from `rows`); returns (stdout, stderr,
/// the `az graph query` calls' `--graph-query` values).
fn run_bash(script: &str, principal: &str, tag: &str) -> (String, String, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("idw-identity-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fake = format!(
        r#"
az() {{
  case "$1 ${{2:-}}" in
    "account show") echo tenant-1 ;;
    "account list") jq -n '[range(0;1200) | {{id: "sub-\(.)", tenantId: "tenant-1", state: "Enabled"}}]' ;;
    "graph query")
      local q="" tok="" a
      local args=("$@")
      for ((i = 0; i < ${{#args[@]}}; i++)); do
        case "${{args[i]}}" in
          --graph-query) q=${{args[i+1]}} ;;
          --skip-token) tok=${{args[i+1]}} ;;
        esac
      done
      printf '%s\n' "$q" >> "$AZ_LOG"
      case "$q" in
        *userassignedidentities*) jq -n --arg p "$FAKE_PRINCIPAL" '{{data: [{{id: "{UA}", name: "id-web", principalId: $p}}]}}' ;;
        *mv-expand*)
          if [ -z "$tok" ]; then jq -n '{{data: [{{id: "u1", name: "vmss-web", type: "microsoft.compute/virtualmachinescalesets", orchestrationMode: "Uniform", subscriptionId: "s1", resourceGroup: "rg-web"}}], skip_token: "t1"}}'
          else jq -n '{{data: [{{id: "u2", name: "vm-dev-2", type: "microsoft.compute/virtualmachines", subscriptionId: "s2", resourceGroup: "rg-dev"}}]}}'; fi ;;
        *roleassignments*) jq -n '{{data: [{{id: "ra1", roleDefinitionId: "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/{READER_UP}", scope: "/subscriptions/s1/resourceGroups/rg-web", condition: ""}}]}}' ;;
        *roledefinitions*) jq -n '{{data: [{{id: "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/{READER}", name: "{READER}", roleName: "Reader"}}]}}' ;;
      esac ;;
  esac
}}
"#,
        READER_UP = READER.to_uppercase()
    );
    let log = dir.join("queries");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("{fake}{script}"))
        .current_dir(&dir)
        .env("AZ_LOG", &log)
        .env("FAKE_PRINCIPAL", principal)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let queries = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        queries,
    )
}

#[test]
fn the_bash_script_pages_batches_and_follows_the_principal_to_its_role_assignments() {
    let s = identity_bash(Cloud::AzureCloud, UA).unwrap();
    let check = std::process::Command::new("bash")
        .args(["-n", "-c", &s])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let (stdout, _, queries) = run_bash(&s, &PRINCIPAL.to_uppercase(), "guid");
    let identity = identity_row(UA).unwrap();
    let users = identity_users(UA).unwrap();
    let ras = role_assignments_of(&[PRINCIPAL.into()]).unwrap().remove(0);
    let defs = format!("{ROLE_DEFINITIONS_PREFIX}'{READER}'{ROLE_DEFINITIONS_SUFFIX}");
    // 1,200 subscriptions: two batches per query; the users' second page follows the skip token
    let expect: Vec<String> = [(&identity, 2), (&users, 4), (&ras, 2), (&defs, 2)]
        .iter()
        .flat_map(|(q, n)| std::iter::repeat_n(q.to_string(), *n))
        .collect();
    assert_eq!(queries, expect);
    // what it prints: the users and the role assignments with the role's name
    assert!(stdout.contains("Used by 4 scale sets and VMs"), "{stdout}");
    assert!(
        stdout.contains("vmss-web\tmicrosoft.compute/virtualmachinescalesets\tUniform\ts1\trg-web"),
        "{stdout}"
    );
    assert!(
        stdout.contains("vm-dev-2\tmicrosoft.compute/virtualmachines\t\ts2\trg-dev"),
        "{stdout}"
    );
    assert!(stdout.contains("2 role assignments"), "{stdout}");
    assert!(
        stdout.contains("Reader\t/subscriptions/s1/resourceGroups/rg-web\t"),
        "{stdout}"
    );
}

#[test]
fn the_bash_script_puts_no_principal_but_a_guid_into_a_query() {
    let s = identity_bash(Cloud::AzureCloud, UA).unwrap();
    let (stdout, stderr, queries) = run_bash(&s, "x' or 1 == 1 or '", "bad");
    assert!(
        stderr.contains("its role assignments cannot be read"),
        "{stderr}"
    );
    assert!(
        !queries
            .iter()
            .any(|q| q.starts_with(PRINCIPAL_ASSIGNMENTS_PREFIX)),
        "{queries:?}"
    );
    assert!(stdout.contains("0 role assignments"), "{stdout}");
}

#[test]
fn inventory_and_identity_scripts_share_sign_in_and_paging() {
    let (inv, one) = (
        scripts::powershell(Cloud::AzureUSGovernment),
        identity_powershell(Cloud::AzureUSGovernment, UA).unwrap(),
    );
    let from = |s: &str| {
        s[s.find("$ErrorActionPreference").unwrap()
            ..s.find("function Invoke-InventoryQuery").unwrap()]
            .to_string()
    };
    assert_eq!(from(&inv), from(&one));
    assert!(inv.contains(COMPUTE.split(" | ").next().unwrap()) && inv.contains("$identitiesQuery"));
    assert!(
        !one.contains(&format!("'{IDENTITIES}'")),
        "not the whole tenant's identities"
    );
}

/// `identity-plan --inventory-script` prints exactly the library's scripts (what the app's Scripts tabs show; the
/// e2e tests compare the page with it), and refuses what it cannot write.
#[test]
fn identity_plan_prints_the_scripts() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_identity-plan"))
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    assert_eq!(
        run(&["--inventory-script", "powershell"]),
        (0, scripts::powershell(Cloud::AzureCloud))
    );
    assert_eq!(
        run(&["--inventory-script", "bash", "--cloud", "azurechinacloud"]),
        (0, scripts::bash(Cloud::AzureChinaCloud))
    );
    assert_eq!(
        run(&["--inventory-script", "powershell", "--identity", UA]),
        (0, identity_powershell(Cloud::AzureCloud, UA).unwrap())
    );
    assert_eq!(
        run(&[
            "--cloud",
            "AzureUSGovernment",
            "--identity",
            UA,
            "--inventory-script",
            "bash"
        ]),
        (0, identity_bash(Cloud::AzureUSGovernment, UA).unwrap())
    );
    for bad in [
        &["--inventory-script", "cmd"][..],
        &["--inventory-script", "bash", "--cloud", "Mars"],
        &[
            "--inventory-script",
            "bash",
            "--identity",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x'",
        ],
        &["--identity", UA],
        &["--inventory-script"],
        &[
            "--inventory-script",
            "bash",
            "--operation",
            "{\"op\":\"removeAll\"}",
        ],
    ] {
        let (code, out) = run(bad);
        assert_eq!(code, 2, "{bad:?}: {out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{out}");
    }
}
