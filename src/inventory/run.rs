//! The inventory's orchestration, without Yew: list the subscriptions the user can read, load their
//! scale sets, VMs, identities and role assignments through Resource Graph (arm-client's
//! [`load_inventory_with`]), and report progress as a [`Progress`] the page renders. The list is handed
//! over as soon as its rows are all in ([`Loaded::roles_pending`]), before the role assignments are read:
//! for a large tenant those are the queries that wait for the next Resource Graph quota window. Cancel is a
//! [`CancelFlag`] the page's buttons set. The identity page's focused load ([`run_identity`]) goes the same way.

use arm_client::inventory::{
    CancelFlag, Completeness, InventoryLoad, LoadEvent, LoadOptions, Partial, WaitReason,
    load_identity, load_inventory_with,
};
use arm_client::{ArmClient, ops};
use identity_core::inventory::Inventory;
use std::rc::Rc;

/// What the progress bar shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Progress {
    /// Rows loaded so far, of `total` known so far.
    pub loaded: u64,
    pub total: u64,
    /// Resource Graph queries sent.
    pub requests: u32,
    /// The loader is waiting (ms, why) before its next query.
    pub waiting: Option<(u64, WaitReason)>,
    /// Subscriptions being read (0 while they are listed).
    pub subscriptions: usize,
}

impl Progress {
    /// The progress in words.
    pub fn text(&self) -> String {
        let mut t = if self.subscriptions == 0 {
            "Listing the subscriptions you can read…".to_string()
        } else {
            format!(
                "Loaded {} of {} rows from {} subscription{} ({} quer{})",
                self.loaded,
                self.total.max(self.loaded),
                self.subscriptions,
                if self.subscriptions == 1 { "" } else { "s" },
                self.requests,
                if self.requests == 1 { "y" } else { "ies" },
            )
        };
        if let Some((ms, reason)) = self.waiting {
            let secs = ms.div_ceil(1000);
            t.push_str(&match reason {
                WaitReason::Quota => {
                    format!("; waiting {secs} s for the Resource Graph quota to reset")
                }
                WaitReason::Throttled => format!("; throttled by Resource Graph, waiting {secs} s"),
            });
        }
        t
    }
}

/// A finished (complete or partial) load.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub inventory: Rc<Inventory>,
    /// Why the result is partial, in words (empty: complete).
    pub partial: Vec<String>,
    /// `(id, display name)` of the subscriptions read.
    pub subscriptions: Vec<(String, String)>,
    /// The list is complete and the role assignments are still being read (the inventory has none yet).
    pub roles_pending: bool,
    /// Every row of the list was read (when `partial` is not empty: what is missing are role assignments).
    pub list_complete: bool,
}

impl Loaded {
    pub fn is_complete(&self) -> bool {
        self.partial.is_empty()
    }
}

/// Why a load is partial, in words that say what to do.
pub fn partial_text(p: &Partial) -> String {
    match p {
        Partial::Cancelled => "you cancelled the load; Load again reads everything".into(),
        Partial::Failed(e) => format!("a query failed ({e}); Load again retries"),
        Partial::Truncated(s) => format!(
            "Resource Graph cut the {} short; narrow the subscriptions or use the scripts",
            s.label()
        ),
        Partial::SubscriptionLimitHit => {
            "more subscriptions than Resource Graph answers for; use the scripts per subscription"
                .into()
        }
        Partial::Changed(s) => {
            format!("the {} changed while they were read; Load again", s.label())
        }
    }
}

/// Lists the subscriptions, then loads their inventory, calling `on` with each step's progress until the list is
/// complete, then `on_list` once with the complete list (its role assignments pending; not called when the list
/// itself is partial). Err: the subscriptions could not be listed (the message says what to do).
pub async fn run(
    client: Rc<ArmClient>,
    cancel: CancelFlag,
    on: impl Fn(Progress) + 'static,
    on_list: impl Fn(Loaded) + 'static,
) -> Result<Loaded, String> {
    let (subscriptions, ids, mut p) = list_subscriptions(&client, &on).await?;
    let list_shown = std::cell::Cell::new(false);
    let mut on_event = |e: &LoadEvent| {
        if list_shown.get() {
            // the page shows the list now; the role assignments' progress is not the list's
            return;
        }
        track(&mut p, e, &on)
    };
    let mut on_list_rows = |l: &InventoryLoad| {
        list_shown.set(true);
        on_list(Loaded {
            inventory: Rc::new(l.inventory(&subscriptions)),
            partial: vec![],
            subscriptions: subscriptions.clone(),
            roles_pending: true,
            list_complete: true,
        });
    };
    let load = load_inventory_with(
        &client,
        &ids,
        &LoadOptions::default(),
        &cancel,
        &mut on_event,
        &mut on_list_rows,
    )
    .await;
    Ok(finish(&load, subscriptions, list_shown.get()))
}

/// The identity page's load: lists the subscriptions, then reads one user-assigned identity, the scale sets and
/// VMs that use it and its principal's role assignments with focused queries (arm-client's [`load_identity`]).
/// Err: the subscriptions could not be listed.
pub async fn run_identity(
    client: Rc<ArmClient>,
    identity_id: String,
    cancel: CancelFlag,
    on: impl Fn(Progress) + 'static,
) -> Result<Loaded, String> {
    let (subscriptions, ids, mut p) = list_subscriptions(&client, &on).await?;
    let load = load_identity(
        &client,
        &ids,
        &identity_id,
        &LoadOptions::default(),
        &cancel,
        &mut |e| track(&mut p, e, &on),
    )
    .await;
    let complete = load.is_complete();
    Ok(finish(&load, subscriptions, complete))
}

/// The subscriptions the user can read: `(id, display name)`, the ids, and the progress so far.
async fn list_subscriptions(
    client: &ArmClient,
    on: &impl Fn(Progress),
) -> Result<(Vec<(String, String)>, Vec<String>, Progress), String> {
    let mut p = Progress::default();
    on(p.clone());
    let subs: Vec<arm_client::Subscription> = client
        .list(ops::list_subscriptions())
        .collect_all()
        .await
        .map_err(|e| {
            format!(
                "The subscriptions could not be listed ({e}). Check the sign-in, then load again."
            )
        })?;
    let subscriptions: Vec<(String, String)> = subs
        .iter()
        .map(|s| (s.subscription_id.clone(), s.display_name.clone()))
        .collect();
    let ids: Vec<String> = subscriptions.iter().map(|(id, _)| id.clone()).collect();
    p.subscriptions = ids.len().max(1);
    on(p.clone());
    Ok((subscriptions, ids, p))
}

/// A loader event into the progress, then reported.
fn track(p: &mut Progress, e: &LoadEvent, on: &impl Fn(Progress)) {
    match e {
        LoadEvent::Page {
            loaded,
            total,
            requests,
            ..
        } => {
            p.loaded = *loaded;
            p.total = *total;
            p.requests = *requests;
            p.waiting = None;
        }
        LoadEvent::Waiting { ms, reason } => p.waiting = Some((*ms, *reason)),
        LoadEvent::ShapeDone(_) => p.waiting = None,
    }
    on(p.clone());
}

/// `list_complete`: every row of the list was read (see [`Loaded::list_complete`]).
fn finish(
    load: &InventoryLoad,
    subscriptions: Vec<(String, String)>,
    list_complete: bool,
) -> Loaded {
    let partial = match &load.completeness {
        Completeness::Complete => vec![],
        Completeness::Partial(ps) => ps.iter().map(partial_text).collect(),
    };
    Loaded {
        inventory: Rc::new(load.inventory(&subscriptions)),
        partial,
        subscriptions,
        roles_pending: false,
        list_complete,
    }
}
