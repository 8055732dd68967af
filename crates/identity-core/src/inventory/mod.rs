//! The fleet inventory (issue 16): every scale set, VM and user-assigned identity of the tenant, who uses
//! what, and what each principal can access — built from Azure Resource Graph rows.
//!
//! - [`queries`]: the Resource Graph queries (one per resource shape), page size and subscription batches —
//!   shared by arm-client's loader and the scripts;
//! - [`model`]: [`Inventory`] built from the rows: resource rows, identities with their users (ids matched
//!   ignoring case), role assignments per principal;
//! - [`view`]: filters and sort, and their URL query string;
//! - [`export`]: a view as CSV (RFC 4180, formula-safe) or JSON;
//! - [`scripts`]: the same queries as `Search-AzGraph` and `az graph query` scripts.
//!
//! ```
//! use identity_core::inventory::{Inventory, view::Filter};
//! use serde_json::json;
//! let ua = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";
//! let compute = vec![json!({"id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web",
//!     "name": "web", "type": "microsoft.compute/virtualmachinescalesets", "subscriptionId": "s1", "resourceGroup": "rg",
//!     "location": "westeurope", "orchestrationMode": "Uniform", "provisioningState": "Succeeded",
//!     "identity": {"type": "UserAssigned", "userAssignedIdentities": {ua.to_lowercase(): {}}}})];
//! let identities = vec![json!({"id": ua, "name": "id-web", "subscriptionId": "s1", "principalId": "p1", "clientId": "c1"})];
//! let inv = Inventory::from_rows(&[("s1".into(), "Prod".into())], &compute, &identities, &[], &[]);
//! assert_eq!(inv.users_of(&ua.to_uppercase()).len(), 1); // ids match ignoring case
//! let shown = Filter { text: "C1".into(), ..Filter::default() }.apply(&inv); // the identity's client id
//! assert_eq!(shown, vec![0]);
//! ```

pub mod export;
pub mod model;
pub mod queries;
pub mod scripts;
pub mod view;

pub use model::{IdentityRow, Inventory, Kind, ResourceRow, RoleAssignmentRow};
pub use view::{Filter, SortKey};
