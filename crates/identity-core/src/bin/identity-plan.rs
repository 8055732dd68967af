//! `identity-plan`: read a resource and an operation as JSON, print the plan as JSON.
//! Run `identity-plan --help` for the input and output formats.

use identity_core::create::CreateOperation;
use identity_core::{Operation, Outcome, ResourceState, plan};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::process::ExitCode;

const HELP: &str = r#"identity-plan: the exact ARM requests that change a scale set's or VM's managed identities, losslessly,
and the requests that create a scale set, a VM, a user-assigned identity or a role assignment (the app's own plans).

USAGE
  identity-plan < input.json
  az vmss show -g RG -n NAME -o json | identity-plan --operation '{"op":"enableSystemAssigned"}'
  identity-plan --operation '{"op":"createUserAssignedIdentity",…}'       (creates need no resource and no stdin)
  identity-plan < create-scale-set.json                                   (a create with a password: on stdin only)

INPUT (stdin)
  Either the wrapped form
    {"resource": <ARM GET body>, "resourceId": "/subscriptions/…/virtualMachineScaleSets/NAME", "operation": {…}}
  ("resourceId" is optional when the body has "id"), or a bare ARM GET body (e.g. the JSON of
  `az vmss show` / `az vm show`) together with --operation (and optionally --resource-id).
  A create operation is given alone: {"operation": {…}}, the bare {"op": …} object, or --operation.

OPTIONS
  --operation JSON     the operation (overrides the input's "operation")
  --resource-id ID     the resource id (when the body has no "id")
  --compact            print one line instead of indented JSON
  -h, --help           this text

SCRIPTS (no plan, no stdin: the script is printed as text)
  --inventory-script powershell|bash
                       the fleet inventory's Resource Graph queries as the app's Scripts tab shows them:
                       Search-AzGraph (-First 1000 -SkipToken) or az graph query (--first 1000 --skip-token)
  --identity ID        with --inventory-script: the identity page's queries for one user-assigned identity
                       (the identity, the scale sets and VMs that use it, its principal's role assignments)
  --cloud NAME         with --inventory-script: AzureCloud (default), AzureUSGovernment, AzureChinaCloud

OPERATION JSON ("op" plus its fields; ids are full ARM resource ids, compared ignoring case)
 On an existing scale set or VM (needs its GET body):
  {"op":"enableSystemAssigned"}
  {"op":"removeSystemAssigned"}
  {"op":"addUserAssigned","ids":["/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME", …]}
  {"op":"removeUserAssigned","ids":[…]}
  {"op":"removeAll"}
  {"op":"setExact","systemAssigned":true,"userAssigned":[…]}
  {"op":"removeLegacyExtension","upgradeInstances":true}   (DELETE the retired extension; manualupgrade on a Manual scale set)
  {"op":"installLegacyExtension"}                         (always refused: the extension is retired in favour of IMDS)
 Creates (no resource; PUT with If-None-Match: *, so nothing existing is replaced):
  {"op":"createUserAssignedIdentity","subscription":"GUID","resourceGroup":"rg","name":"id1","location":"westeurope"}
  {"op":"createRoleAssignment","scope":"/subscriptions/GUID/resourceGroups/rg","roleDefinition":"acdd72a7-3385-48ef-bd42-f606fba81ae7","principalId":"GUID","assignmentName":"GUID"}
      (roleDefinition: a role's GUID or its full id; assignmentName: a new GUID you choose, e.g. from uuidgen;
       principalType is ServicePrincipal, as for every managed identity)
  {"op":"createScaleSet","subscription":"GUID","resourceGroup":"rg","name":"vmss1","location":"westeurope",
   "orchestration":"Uniform","sku":"Standard_B2s","capacity":2,"image":"ubuntuLts",
   "subnetId":"/subscriptions/GUID/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/VNET/subnets/SUBNET",
   "adminUsername":"azureuser","adminAuth":{"sshPublicKey":"ssh-ed25519 AAAA… me@host"},"upgradeMode":"Manual",
   "identity":{"systemAssigned":true,"userAssigned":[]}}
      (orchestration Uniform|Flexible; image ubuntuLts|windowsServer; upgradeMode Manual|Automatic;
       adminAuth {"sshPublicKey":"…"} or {"password":"…"} — a password only on stdin, never in --operation
       (the process list shows arguments); the printed body shows a placeholder instead of it)
  {"op":"createVm","subscription":"GUID","resourceGroup":"rg","name":"vm1","location":"westeurope",
   "size":"Standard_B2s","image":"windowsServer","subnetId":"/subscriptions/GUID/…/virtualNetworks/VNET/subnets/SUBNET",
   "adminUsername":"azureadmin","adminAuth":{"password":"…"},"identity":{"systemAssigned":true,"userAssigned":[]}}
      (the same rules as createScaleSet; name is also the computer name: 1-64 characters Linux, 1-15 Windows;
       the NIC is created by Compute from networkProfile.networkInterfaceConfigurations, networkApiVersion 2020-11-01)
  Unknown fields are errors.

OUTPUT (stdout), one of
  {"requests":[{"method":"PATCH","path":"/subscriptions/…","query":{"api-version":"…"},"headers":{"If-Match":"\"4\""},"body":{"identity":{…}}}], …}
  {"noop":"why nothing needs to be sent", …}
  {"refused":"why this is not sent (e.g. system-assigned on a Flexible scale set, an invalid name, a GET whose identity contradicts itself)", …}
  each with "warnings":[{"code","message"}], "before" and "after" (the identities).
  Bodies carry only "identity": kept user-assigned ids as {}, removed ones as null, "type" derived from what
  remains; never principalId/clientId/tenantId. If-Match carries the GET's etag when it had one.
  Creates print their PUT (If-None-Match: *) with the full body.

EXIT STATUS
  0 requests or no-op, 1 refused, 2 unreadable input ({"error": "…"} on stdout).
"#;

/// Create operations' `op` values (they take no resource).
const CREATE_OPS: [&str; 4] = [
    "createScaleSet",
    "createVm",
    "createUserAssignedIdentity",
    "createRoleAssignment",
];

/// Shown instead of the admin password in a printed request body.
const PASSWORD_SHOWN: &str = "(the password from the input: sent, not shown)";

/// Print one JSON value; a closed stdout (`| head`) is not an error worth a panic.
fn emit(v: &Value, compact: bool) {
    let text = if compact {
        serde_json::to_string(v)
    } else {
        serde_json::to_string_pretty(v)
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.unwrap_or_default());
}

fn fail(msg: impl Into<String>) -> ExitCode {
    emit(&json!({ "error": msg.into() }), true);
    ExitCode::from(2)
}

/// `--inventory-script`: the inventory's (or one identity's) Resource Graph script, as text.
fn print_script(shell: &str, identity: Option<&str>, cloud: Option<&str>) -> ExitCode {
    use identity_core::inventory::scripts;
    use identity_core::scripts::Cloud;
    let cloud = match cloud {
        None => Cloud::AzureCloud,
        Some(n) => match Cloud::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(n))
        {
            Some(c) => c,
            None => {
                return fail(format!(
                    "unknown cloud {n:?}: AzureCloud, AzureUSGovernment or AzureChinaCloud"
                ));
            }
        },
    };
    let text = match (shell, identity) {
        ("powershell", None) => Some(scripts::powershell(cloud)),
        ("bash", None) => Some(scripts::bash(cloud)),
        ("powershell", Some(id)) => scripts::identity_powershell(cloud, id),
        ("bash", Some(id)) => scripts::identity_bash(cloud, id),
        (other, _) => {
            return fail(format!(
                "unknown --inventory-script {other:?}: powershell or bash"
            ));
        }
    };
    match text {
        Some(t) => {
            let _ = std::io::stdout().lock().write_all(t.as_bytes());
            ExitCode::SUCCESS
        }
        None => fail(format!(
            "{:?} is not the resource id of a user-assigned identity that can be written into a query (/subscriptions/{{id}}/resourceGroups/{{group}}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{{name}}, without quotes)",
            identity.unwrap_or_default()
        )),
    }
}

fn is_create(op: &Value) -> bool {
    op.get("op")
        .and_then(Value::as_str)
        .is_some_and(|o| CREATE_OPS.contains(&o))
}

fn finish(p: &identity_core::Plan, out: Value, compact: bool) -> ExitCode {
    emit(&out, compact);
    match p.outcome {
        Outcome::Refused(_) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn run_create(op_value: Value, compact: bool) -> ExitCode {
    let op: CreateOperation = match serde_json::from_value(op_value) {
        Ok(o) => o,
        Err(e) => {
            return fail(format!(
                "invalid operation: {e} (see --help for the operation JSON)"
            ));
        }
    };
    let p = op.plan();
    let mut out = p.to_cli_json();
    if let (Some(reqs), Some(pointer)) = (
        out.get_mut("requests").and_then(Value::as_array_mut),
        op.password_pointer(),
    ) {
        for r in reqs {
            if let Some(pw) = r.get_mut("body").and_then(|b| b.pointer_mut(pointer)) {
                *pw = Value::String(PASSWORD_SHOWN.into());
            }
        }
    }
    finish(&p, out, compact)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut op_arg: Option<String> = None;
    let mut id_arg: Option<String> = None;
    let mut compact = false;
    let (mut script, mut identity, mut cloud) = (None::<String>, None::<String>, None::<String>);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                let _ = write!(std::io::stdout().lock(), "{HELP}");
                return ExitCode::SUCCESS;
            }
            "--operation" => match args.next() {
                Some(v) => op_arg = Some(v),
                None => return fail("--operation needs a JSON value"),
            },
            "--resource-id" => match args.next() {
                Some(v) => id_arg = Some(v),
                None => return fail("--resource-id needs a value"),
            },
            "--compact" => compact = true,
            "--inventory-script" | "--identity" | "--cloud" => match args.next() {
                Some(v) if a == "--inventory-script" => script = Some(v),
                Some(v) if a == "--identity" => identity = Some(v),
                Some(v) => cloud = Some(v),
                None => return fail(format!("{a} needs a value")),
            },
            other => return fail(format!("unknown argument {other:?} (see --help)")),
        }
    }
    if let Some(shell) = script {
        if op_arg.is_some() || id_arg.is_some() {
            return fail("--inventory-script takes no --operation and no --resource-id");
        }
        return print_script(&shell, identity.as_deref(), cloud.as_deref());
    }
    if identity.is_some() || cloud.is_some() {
        return fail("--identity and --cloud go with --inventory-script");
    }
    let op_arg = match op_arg.map(|s| serde_json::from_str::<Value>(&s)) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => return fail(format!("--operation is not JSON: {e}")),
    };
    if let Some(op) = op_arg.as_ref().filter(|op| is_create(op)) {
        if op.pointer("/adminAuth/password").is_some() {
            return fail(
                "a password in --operation is visible to every user of this machine (the process list shows arguments): give the create operation on stdin instead, e.g. identity-plan < create.json",
            );
        }
        if id_arg.is_some() {
            return fail("a create operation takes no --resource-id");
        }
        return run_create(op.clone(), compact);
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return fail(format!("cannot read stdin: {e}"));
    }
    let v: Value = match serde_json::from_str(&input) {
        Ok(v) => v,
        Err(e) => return fail(format!("stdin is not JSON: {e}")),
    };
    let no_id = v.get("id").is_none();
    let (resource, id_in, op_in) = if no_id && v.get("op").is_some() {
        // the bare operation
        (None, None, Some(v))
    } else if no_id && (v.get("resource").is_some() || v.get("operation").is_some()) {
        (
            v.get("resource").cloned(),
            v.get("resourceId")
                .and_then(Value::as_str)
                .map(str::to_string),
            v.get("operation").cloned(),
        )
    } else {
        (Some(v), None, None)
    };
    let op_value = match (op_arg, op_in) {
        (Some(v), _) => v,
        (None, Some(v)) => v,
        (None, None) => {
            return fail(
                "no operation: give \"operation\" in the input or --operation (see --help)",
            );
        }
    };
    if is_create(&op_value) {
        if resource.is_some() || id_arg.is_some() || id_in.is_some() {
            return fail(
                "a create operation takes no resource: give {\"operation\": {…}} or the bare operation (see --help)",
            );
        }
        return run_create(op_value, compact);
    }
    let op: Operation = match serde_json::from_value(op_value) {
        Ok(o) => o,
        Err(e) => {
            return fail(format!(
                "invalid operation: {e}, or one of {} (see --help for the operation JSON)",
                CREATE_OPS.join(", ")
            ));
        }
    };
    let Some(resource) = resource else {
        return fail(
            "this operation changes an existing scale set or VM: give its GET body as \"resource\" (or pipe az vmss show / az vm show with --operation)",
        );
    };
    let id = id_arg.or(id_in);
    let state = match ResourceState::from_arm(&resource, id.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(format!("invalid resource: {e}")),
    };
    let p = plan(&state, &op);
    let out = p.to_cli_json();
    finish(&p, out, compact)
}
