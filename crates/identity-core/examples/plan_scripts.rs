//! `plan_scripts`: one plan and every generated script for it, as JSON — the test support of the Azure CLI
//! layer (`tests/az-cli/`), which runs the scripts under the real `az` against armsim.
//!
//! ```sh
//! echo '{"kind":"change","resource":{…ARM GET body…},"operation":{"op":"enableSystemAssigned"}}' \
//!   | cargo run -q -p identity-core --example plan_scripts
//! ```
//! Input (stdin), one of
//!   `{"kind":"change","resource":<ARM GET body with "id">,"operation":<as identity-plan>}`
//!   `{"kind":"createScaleSet","spec":<ScaleSetSpec>}`
//!   `{"kind":"createUserAssigned","spec":<UserAssignedIdentitySpec>}`
//!   `{"kind":"roleAssignment","spec":<RoleAssignmentSpec>}`
//!   `{"kind":"batch","operation":<identity_core::bulk::BulkOp>,"items":[resource ids]}` (output: only `scripts`,
//!   the batch scripts of `scripts::batch`)
//! Output: `{"plan": <identity-plan's output>, "scripts": {"<flavour slug>": "<text>", …}}` (cloud AzureCloud);
//! exit status 2 and `{"error": …}` for unreadable input.

use identity_core::create::{
    RoleAssignmentSpec, ScaleSetSpec, UserAssignedIdentitySpec, create_scale_set,
    create_user_assigned_identity, role_assignment,
};
use identity_core::scripts::{Cloud, ScriptPlan, generate_all};
use identity_core::{Operation, ResourceState, plan};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::io::Read;
use std::process::ExitCode;

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Input {
    Change {
        resource: Value,
        operation: Operation,
    },
    CreateScaleSet {
        spec: ScaleSetSpec,
    },
    CreateUserAssigned {
        spec: UserAssignedIdentitySpec,
    },
    RoleAssignment {
        spec: RoleAssignmentSpec,
    },
    Batch {
        operation: identity_core::bulk::BulkOp,
        items: Vec<String>,
    },
}

fn main() -> ExitCode {
    let mut text = String::new();
    let input: Result<Input, String> = std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_str(&text).map_err(|e| e.to_string()));
    let cloud = Cloud::AzureCloud;
    if let Ok(Input::Batch { operation, items }) = &input {
        let req = identity_core::scripts::batch::BatchRequest {
            cloud,
            op: operation.clone(),
            items: items.clone(),
        };
        let scripts: Map<String, Value> = identity_core::scripts::batch::batch_all(&req)
            .into_iter()
            .map(|s| (s.flavour.slug().to_string(), Value::String(s.text)))
            .collect();
        println!("{}", json!({ "scripts": scripts }));
        return ExitCode::SUCCESS;
    }
    let made = input.and_then(|input| {
        Ok(match input {
            Input::Change {
                resource,
                operation,
            } => {
                let state = ResourceState::from_arm(&resource, None).map_err(|e| e.to_string())?;
                let p = plan(&state, &operation);
                let sp = ScriptPlan::from_plan(cloud, &state, &operation, &p);
                (p, sp)
            }
            Input::CreateScaleSet { spec } => {
                let p = create_scale_set(&spec);
                let sp = ScriptPlan::from_scale_set(cloud, &spec, &p);
                (p, sp)
            }
            Input::CreateUserAssigned { spec } => {
                let p = create_user_assigned_identity(&spec);
                let sp = ScriptPlan::from_user_assigned_identity(cloud, &spec, &p);
                (p, sp)
            }
            Input::RoleAssignment { spec } => {
                let p = role_assignment(&spec);
                let sp = ScriptPlan::from_role_assignment(cloud, &spec, &p);
                (p, sp)
            }
            Input::Batch { .. } => unreachable!("answered above"),
        })
    });
    match made {
        Ok((p, sp)) => {
            let scripts: Map<String, Value> = generate_all(&sp)
                .into_iter()
                .map(|s| (s.flavour.slug().to_string(), Value::String(s.text)))
                .collect();
            println!("{}", json!({"plan": p.to_cli_json(), "scripts": scripts}));
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{}", json!({ "error": e }));
            ExitCode::from(2)
        }
    }
}
