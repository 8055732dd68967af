//! `identity-plan`: read a resource and an operation as JSON, print the plan as JSON.
//! Run `identity-plan --help` for the input and output formats.

use identity_core::{Operation, Outcome, ResourceState, plan};
use serde_json::{Value, json};
use std::io::Read;
use std::process::ExitCode;

const HELP: &str = r#"identity-plan: the exact ARM requests that change a scale set's or VM's managed identities, losslessly.

USAGE
  identity-plan < input.json
  az vmss show -g RG -n NAME -o json | identity-plan --operation '{"op":"enableSystemAssigned"}'

INPUT (stdin)
  Either the wrapped form
    {"resource": <ARM GET body>, "resourceId": "/subscriptions/…/virtualMachineScaleSets/NAME", "operation": {…}}
  ("resourceId" is optional when the body has "id"), or a bare ARM GET body (e.g. the JSON of
  `az vmss show` / `az vm show`) together with --operation (and optionally --resource-id).

OPTIONS
  --operation JSON     the operation (overrides the input's "operation")
  --resource-id ID     the resource id (when the body has no "id")
  --compact            print one line instead of indented JSON
  -h, --help           this text

OPERATION JSON ("op" plus its fields; ids are full ARM resource ids, compared ignoring case)
  {"op":"enableSystemAssigned"}
  {"op":"removeSystemAssigned"}
  {"op":"addUserAssigned","ids":["/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME", …]}
  {"op":"removeUserAssigned","ids":[…]}
  {"op":"removeAll"}
  {"op":"setExact","systemAssigned":true,"userAssigned":[…]}
  {"op":"removeLegacyExtension","upgradeInstances":true}   (DELETE the retired extension; manualupgrade on a Manual scale set)
  {"op":"installLegacyExtension"}                         (always refused: the extension is retired in favour of IMDS)

OUTPUT (stdout), one of
  {"requests":[{"method":"PATCH","path":"/subscriptions/…","query":{"api-version":"…"},"headers":{"If-Match":"\"4\""},"body":{"identity":{…}}}], …}
  {"noop":"why nothing needs to be sent", …}
  {"refused":"why this is not sent (e.g. system-assigned on a Flexible scale set)", …}
  each with "warnings":[{"code","message"}], "before" and "after" (the identities).
  Bodies carry only "identity": kept user-assigned ids as {}, removed ones as null, "type" derived from what
  remains; never principalId/clientId/tenantId. If-Match carries the GET's etag when it had one.

EXIT STATUS
  0 requests or no-op, 1 refused, 2 unreadable input ({"error": "…"} on stdout).
"#;

fn fail(msg: impl Into<String>) -> ExitCode {
    println!("{}", json!({ "error": msg.into() }));
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut op_arg: Option<String> = None;
    let mut id_arg: Option<String> = None;
    let mut compact = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
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
            other => return fail(format!("unknown argument {other:?} (see --help)")),
        }
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return fail(format!("cannot read stdin: {e}"));
    }
    let v: Value = match serde_json::from_str(&input) {
        Ok(v) => v,
        Err(e) => return fail(format!("stdin is not JSON: {e}")),
    };
    let wrapped = v.get("resource").is_some() && v.get("id").is_none();
    let (resource, id_in, op_in) = if wrapped {
        (
            v.get("resource").cloned().unwrap_or(Value::Null),
            v.get("resourceId")
                .and_then(Value::as_str)
                .map(str::to_string),
            v.get("operation").cloned(),
        )
    } else {
        (v, None, None)
    };
    let op_value = match (op_arg, op_in) {
        (Some(s), _) => match serde_json::from_str::<Value>(&s) {
            Ok(v) => v,
            Err(e) => return fail(format!("--operation is not JSON: {e}")),
        },
        (None, Some(v)) => v,
        (None, None) => {
            return fail(
                "no operation: give \"operation\" in the input or --operation (see --help)",
            );
        }
    };
    let op: Operation = match serde_json::from_value(op_value) {
        Ok(o) => o,
        Err(e) => {
            return fail(format!(
                "invalid operation: {e} (see --help for the operation JSON)"
            ));
        }
    };
    let id = id_arg.or(id_in);
    let state = match ResourceState::from_arm(&resource, id.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(format!("invalid resource: {e}")),
    };
    let p = plan(&state, &op);
    let out = p.to_cli_json();
    let text = if compact {
        serde_json::to_string(&out)
    } else {
        serde_json::to_string_pretty(&out)
    };
    println!("{}", text.unwrap_or_default());
    match p.outcome {
        Outcome::Refused(_) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}
