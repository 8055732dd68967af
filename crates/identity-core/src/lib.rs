//! identity-core: the pure heart of identity-wizard.
//!
//! No web, no async, no I/O: ARM resource ids, the identity model, lossless change plans,
//! equivalent scripts and wizard state. Tested natively; compiles for wasm32.
//!
//! The flow: read a resource with [`ResourceState::from_arm`] (an ARM GET body), pick an
//! [`Operation`], and call [`plan()`](plan::plan) to get a [`Plan`]: the exact [`ArmRequest`]s, a
//! no-op with its reason, or a refusal with its reason, plus warnings.
//!
//! ```
//! use identity_core::{plan, Operation, ResourceState};
//! let body = serde_json::json!({
//!     "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v",
//!     "identity": {"type": "SystemAssigned, UserAssigned", "principalId": "p",
//!       "userAssignedIdentities": {
//!         "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a": {},
//!         "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b": {}}}
//! });
//! let st = ResourceState::from_arm(&body, None).unwrap();
//! let p = plan(&st, &Operation::RemoveUserAssigned { ids: vec![
//!     "/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/A".into()] });
//! // the removed id is sent as null with the casing the resource holds; the kept one as {}
//! assert_eq!(p.requests()[0].body.as_ref().unwrap()["identity"], serde_json::json!({
//!     "type": "SystemAssigned, UserAssigned",
//!     "userAssignedIdentities": {
//!         "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a": null,
//!         "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b": {}}}));
//! ```

pub mod api_versions;
pub mod bulk;
pub mod catalogue;
pub mod clouds;
pub mod create;
pub mod create_wizard;
pub mod identity;
pub mod inventory;
pub mod naming;
pub mod operation;
pub mod plan;
pub mod request;
pub mod resource;
pub mod resource_id;
pub mod route;
pub mod scripts;
pub mod wizard;

pub use identity::{IdentityState, IdentityType, UserAssignedIdentity};
pub use operation::Operation;
pub use plan::{Outcome, Plan, Warning, WarningCode, plan};
pub use request::{ArmRequest, Method};
pub use resource::{ResourceKind, ResourceState};
pub use resource_id::ResourceId;
