//! `/bulk`: the review of a selection, the apply with live status, and the report. Renders the state of
//! [`super::run`] and sends intent (apply, pause, resume, cancel, retry, discard).

use super::run::{self, BulkReview, Ended, ReadBack};
use super::spec::{BatchSpec, name_of, op_title};
use super::store;
use crate::nav::Link;
use crate::session::use_session;
use arm_client::bulk::{BatchHandle, BatchState, ItemStatus};
use identity_core::route::Route;
use identity_core::scripts::Script;
use identity_core::scripts::batch::{BatchRequest, batch_all};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

/// The batch this page's scheduler runs (it outlives the page: leaving `/bulk` and coming back shows it still
/// running, never a second run of the same items).
struct Active {
    handle: BatchHandle,
    spec: BatchSpec,
    readback: ReadBack,
    /// The scheduler returned (finished, or cancelled and the items in flight done).
    done: Cell<bool>,
    /// Paused because the session was switched to read-only.
    paused_read_only: Cell<bool>,
    /// Why it ended early (the grant before the batch failed).
    ended: RefCell<Option<String>>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Rc<Active>>> = const { RefCell::new(None) };
    /// Re-renders the page shown, if any.
    static NOTIFY: RefCell<Option<Callback<()>>> = const { RefCell::new(None) };
}

fn active() -> Option<Rc<Active>> {
    ACTIVE.with(|a| a.borrow().clone())
}

fn notify() {
    let cb = NOTIFY.with(|n| n.borrow().clone());
    if let Some(cb) = cb {
        cb.emit(());
    }
}

use super::review::LISTED;
/// A batch of more items than this is written to the browser's storage at most once a second (each write
/// holds every item).
const SAVE_EVERY_CHANGE_UP_TO: usize = 2_000;

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Nothing selected, no batch kept.
    Empty,
    /// No ARM access.
    Offline(String),
    /// Reading the selection for the review.
    Reading { done: usize, total: usize },
    /// The review, and the batch as scripts.
    Review(Rc<BulkReview>, Rc<Vec<Script>>),
    /// A batch (running, paused, cancelled, finished, or kept from an earlier visit).
    Batch,
    /// A kept batch that cannot be read.
    Broken(String),
}

/// Whether the batch's scheduler runs in this page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Live {
    running: bool,
    paused: bool,
    cancelled: bool,
    /// Paused because the session was switched to read-only.
    paused_read_only: bool,
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// `/bulk`.
#[component]
pub fn BulkPage() -> Html {
    let s = use_session();
    let phase = use_state(|| Phase::Empty);
    let spec = use_state(|| None::<BatchSpec>);
    let batch = use_state(|| None::<Rc<BatchState>>);
    let error = use_state(|| None::<String>);
    let local_readback: ReadBack = (*use_state(ReadBack::default)).clone();
    let readback_tick = use_state(|| 0u32);
    let redraw = use_force_update();
    {
        let redraw = redraw.clone();
        use_effect_with((), move |_| {
            NOTIFY.with(|n| *n.borrow_mut() = Some(Callback::from(move |_| redraw.force_update())));
            || NOTIFY.with(|n| *n.borrow_mut() = None)
        });
    }
    let act = active();
    let live = match &act {
        Some(a) => Live {
            running: !a.done.get(),
            paused: a.handle.is_paused(),
            cancelled: a.handle.is_cancelled(),
            paused_read_only: a.paused_read_only.get(),
        },
        None => Live::default(),
    };
    let readback: ReadBack = act
        .as_ref()
        .map(|a| a.readback.clone())
        .unwrap_or_else(|| local_readback.clone());
    let last_save = use_mut_ref(|| Rc::new(Cell::new(0u64)));
    {
        let (phase, spec, batch) = (phase.clone(), spec.clone(), batch.clone());
        let connector = s.connector.clone();
        let cloud = s.config.script_cloud();
        // the batch as scripts: every item of the selection (each script reads and guards each item itself)
        let scripts = move |op: &identity_core::bulk::BulkOp, items: &[String]| {
            Rc::new(batch_all(&BatchRequest {
                cloud,
                op: op.clone(),
                items: items.to_vec(),
            }))
        };
        // (again when the session changes: a reload restores the sign-in after the first render)
        use_effect_with(Rc::as_ptr(&s.connector) as usize, move |_| {
            // a batch still running here comes first (a new selection waits until it is done)
            if let Some(a) = active().filter(|a| !a.done.get() || store::load_draft().is_none()) {
                spec.set(Some(a.spec.clone()));
                phase.set(Phase::Batch);
            } else if let Some(d) = store::load_draft() {
                let (_, client, notice) = connector.access();
                match client {
                    None => phase.set(Phase::Offline(notice.unwrap_or_else(|| {
                        "Not signed in: sign in to review and apply a bulk change.".into()
                    }))),
                    // the inventory the selection was made in plans it at once; else each item is read
                    Some(_) if super::select::last_inventory().is_some() => {
                        let inv = super::select::last_inventory().unwrap_or_default();
                        spec.set(Some(d.spec.clone()));
                        phase.set(Phase::Review(
                            Rc::new(run::review_from_inventory(
                                &d.spec.operation,
                                &inv,
                                &d.items,
                            )),
                            scripts(&d.spec.operation, &d.items),
                        ));
                    }
                    Some(client) => {
                        let total = d.items.len();
                        phase.set(Phase::Reading { done: 0, total });
                        spec.set(Some(d.spec.clone()));
                        let ph = phase.clone();
                        let sc = scripts(&d.spec.operation, &d.items);
                        wasm_bindgen_futures::spawn_local(async move {
                            let on = {
                                let ph = ph.clone();
                                move |done, total| ph.set(Phase::Reading { done, total })
                            };
                            let r =
                                run::review_fresh(client, d.spec.operation.clone(), d.items, on)
                                    .await;
                            ph.set(Phase::Review(Rc::new(r), sc));
                        });
                    }
                }
            } else {
                match store::load_batch() {
                    None => phase.set(Phase::Empty),
                    Some(Err(e)) => phase.set(Phase::Broken(e)),
                    Some(Ok(st)) => match store::spec_of(&st) {
                        Err(e) => phase.set(Phase::Broken(e)),
                        Ok(sp) => {
                            spec.set(Some(sp));
                            batch.set(Some(Rc::new(st)));
                            phase.set(Phase::Batch);
                        }
                    },
                }
            }
        });
    }
    // a session switched to read-only pauses a running batch (the client would refuse its writes anyway)
    use_effect_with(s.read_write, move |&rw| {
        if let Some(a) = active().filter(|a| !rw && !a.done.get() && !a.handle.is_paused()) {
            a.handle.pause();
            a.paused_read_only.set(true);
            notify();
        }
    });
    let title = spec
        .as_ref()
        .map(|sp| op_title(&sp.operation))
        .unwrap_or_default();
    let save = {
        let title = title.clone();
        let last_save = last_save.borrow().clone();
        Rc::new(move |st: &BatchState, force: bool| {
            let now = now_ms();
            if force
                || st.items.len() <= SAVE_EVERY_CHANGE_UP_TO
                || now.saturating_sub(last_save.get()) >= 1_000
            {
                last_save.set(now);
                store::save_batch(st, &title);
            }
        })
    };
    // start (or resume) applying `st`
    let begin: Rc<dyn Fn(BatchState)> = {
        let error = error.clone();
        let (s, spec, batch, phase) = (s.clone(), spec.clone(), batch.clone(), phase.clone());
        let save = save.clone();
        Rc::new(move |st: BatchState| {
            let Some(sp) = (*spec).clone() else { return };
            let (_, client, notice) = s.connector.access();
            let Some(client) = client else {
                error.set(Some(
                    notice.unwrap_or_else(|| "Sign in to apply this batch.".into()),
                ));
                return;
            };
            error.set(None);
            save(&st, true);
            batch.set(Some(Rc::new(st.clone())));
            let readback = ReadBack::default();
            let on_item = {
                let save = save.clone();
                move |_r: &arm_client::bulk::ItemRecord, h: &BatchHandle| {
                    save(&h.snapshot(), false);
                    notify();
                }
            };
            let on_done = {
                let save = save.clone();
                move |ended: Ended, h: &BatchHandle| {
                    if let Some(a) = active() {
                        if let Ended::GrantFailed(why) = ended {
                            *a.ended.borrow_mut() = Some(why);
                        }
                        a.done.set(true);
                    }
                    save(&h.snapshot(), true);
                    notify();
                }
            };
            let started = run::start(client, &sp, st, readback.clone(), on_item, on_done);
            ACTIVE.with(|a| {
                *a.borrow_mut() = Some(Rc::new(Active {
                    handle: started.handle,
                    spec: sp.clone(),
                    readback,
                    done: Cell::new(false),
                    paused_read_only: Cell::new(false),
                    ended: RefCell::new(None),
                }))
            });
            phase.set(Phase::Batch);
        })
    };
    let rw = s.read_write;
    let read_only_note = html! {
        <p class="notice" id="bulk-read-only" role="status">
            { "Read-only: turn on \u{201c}Allow changes\u{201d} in the header to apply. The review and the scripts need no changes." }
        </p>
    };
    let body = match (*phase).clone() {
        Phase::Empty => html! {
            <p id="bulk-empty">
                { "Nothing selected. Select scale sets and VMs in the " }
                <Link to={Route::Inventory { query: String::new() }}>{ "Inventory" }</Link>
                { ", choose a change, then review it here." }
            </p>
        },
        Phase::Offline(n) => html! { <p class="notice" role="status">{ n }</p> },
        Phase::Broken(e) => {
            let discard = {
                let phase = phase.clone();
                Callback::from(move |_| {
                    store::clear_batch();
                    phase.set(Phase::Empty);
                })
            };
            html! {
                <section class="error" role="alert">
                    <p>{ e }</p>
                    <button type="button" id="bulk-discard" onclick={discard}>{ "Discard the kept batch" }</button>
                </section>
            }
        }
        Phase::Reading { done, total } => html! {
            <section aria-labelledby="bulk-reading-label">
                <p id="bulk-reading-label" role="status" aria-live="polite">
                    { format!("Reading {} of {} to plan each one from its current state…", done, total) }
                </p>
                <progress id="bulk-reading" aria-labelledby="bulk-reading-label" max={total.max(1).to_string()} value={done.to_string()} />
            </section>
        },
        Phase::Review(review, scripts) => {
            let sp = (*spec).clone();
            match sp {
                None => html! {},
                Some(sp) => {
                    let apply = {
                        let (review, sp, begin) = (review.clone(), sp.clone(), begin.clone());
                        Callback::from(move |_| {
                            store::clear_draft();
                            begin(review.batch(&sp, now_ms()));
                        })
                    };
                    html! {
                                                <super::review::ReviewView review={review} {scripts} spec={sp} origin={s.cloud.arm_endpoint.trim_end_matches('/').to_string()}
                            read_write={rw} on_apply={apply} />
                    }
                }
            }
        }
        Phase::Batch => {
            let kept = act.as_ref().map(|a| Rc::new(a.handle.snapshot()));
            let Some(st) = kept.or_else(|| (*batch).clone()) else {
                return html! {};
            };
            let c = st.counters();
            let done = st.items.len() - c.pending - c.running;
            let total = st.items.len();
            let finished = st.is_finished();
            let l = live;
            let on_pause = {
                let save = save.clone();
                Callback::from(move |_| {
                    if let Some(a) = active() {
                        a.handle.pause();
                        a.paused_read_only.set(false);
                        save(&a.handle.snapshot(), true);
                    }
                    notify();
                })
            };
            let on_resume_live = Callback::from(move |_| {
                if let Some(a) = active() {
                    a.handle.resume();
                    a.paused_read_only.set(false);
                }
                notify();
            });
            let on_cancel = Callback::from(move |_| {
                if let Some(a) = active() {
                    a.handle.cancel();
                }
                notify();
            });
            // a kept batch (earlier visit, cancelled or stopped): run what is left from fresh reads
            let on_resume_kept = {
                let (begin, st) = (begin.clone(), st.clone());
                Callback::from(move |_| begin((*st).clone()))
            };
            let on_retry_failed = {
                let (begin, st) = (begin.clone(), st.clone());
                Callback::from(move |_| {
                    let mut n = (*st).clone();
                    for it in &mut n.items {
                        if it.status == ItemStatus::Failed {
                            it.status = ItemStatus::Pending;
                            it.interrupted = true;
                        }
                    }
                    begin(n)
                })
            };
            let on_discard = {
                let (phase, batch) = (phase.clone(), batch.clone());
                Callback::from(move |_| {
                    if let Some(a) = ACTIVE.with(|a| a.borrow_mut().take()) {
                        a.handle.cancel();
                    }
                    store::clear_batch();
                    batch.set(None);
                    phase.set(Phase::Empty);
                })
            };
            let on_read_back = {
                let (s, st, readback, tick) = (
                    s.clone(),
                    st.clone(),
                    readback.clone(),
                    readback_tick.clone(),
                );
                Callback::from(move |_| {
                    let (_, client, _) = s.connector.access();
                    let Some(client) = client else { return };
                    let ids: Vec<String> = st.items.iter().map(|i| i.id.clone()).collect();
                    let (rb, tick) = (readback.clone(), tick.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        let t2 = tick.clone();
                        run::read_back(client, &ids, rb, move |_, _| t2.set(*t2 + 1)).await;
                        tick.set(*tick + 1);
                    });
                })
            };
            let download = |json: bool| {
                let (st, rb) = (st.clone(), readback.clone());
                Callback::from(move |_: MouseEvent| {
                    let rb = rb.borrow();
                    if json {
                        let text = serde_json::to_string_pretty(&run::report_json(&st, &rb))
                            .unwrap_or_default();
                        crate::download::download_text(
                            "bulk-report.json",
                            "application/json",
                            &text,
                        );
                    } else {
                        crate::download::download_text(
                            "bulk-report.csv",
                            "text/csv",
                            &run::report_csv(&st, &rb),
                        );
                    }
                })
            };
            let status_text = if l.running && l.cancelled {
                "Cancelled: nothing new is sent; the items in flight finish.".to_string()
            } else if l.running && l.paused_read_only {
                "Paused: the session was switched to read-only. Allow changes, then Resume."
                    .to_string()
            } else if l.running && l.paused {
                "Paused: no new item starts; the items in flight finish.".to_string()
            } else if l.running {
                format!("Applying: {done} of {total} done.")
            } else if finished {
                format!("Finished: {done} of {total} done.")
            } else if l.cancelled {
                format!("Cancelled: {} not sent.", c.pending + c.running)
            } else {
                format!(
                    "This batch stopped with {} of {} left (a reload, or a closed tab). Resuming reads each of them again before anything is sent.",
                    c.pending + c.running,
                    total
                )
            };
            let rb = readback.borrow();
            html! {
                <section class="bulk-run" aria-labelledby="bulk-run-h">
                    <h3 id="bulk-run-h">{ title.clone() }</h3>
                    if !l.running && !finished {
                        <p id="bulk-resume-offer" class="notice">{ format!("Resume batch: {} of {} left", c.pending + c.running, total) }</p>
                    }
                    <p id="bulk-status" role="status" aria-live="polite">{ status_text }</p>
                    <progress id="bulk-progress" aria-label="Items done" max={total.max(1).to_string()} value={done.to_string()} />
                    <dl class="bulk-counters" id="bulk-counters">
                        <dt>{ "Applied" }</dt><dd id="bulk-n-applied">{ c.applied }</dd>
                        <dt>{ "No-op" }</dt><dd id="bulk-n-noop">{ c.no_op }</dd>
                        <dt>{ "Refused" }</dt><dd id="bulk-n-refused">{ c.refused }</dd>
                        <dt>{ "Failed" }</dt><dd id="bulk-n-failed">{ c.failed }</dd>
                        <dt>{ "Running" }</dt><dd id="bulk-n-running">{ c.running }</dd>
                        <dt>{ "Not sent yet" }</dt><dd id="bulk-n-pending">{ c.pending }</dd>
                    </dl>
                    <div class="actions">
                        if l.running {
                            if l.paused {
                                <button type="button" id="bulk-resume" onclick={on_resume_live} disabled={!rw || l.cancelled}>{ "Resume" }</button>
                            } else {
                                <button type="button" id="bulk-pause" class="secondary" onclick={on_pause} disabled={l.cancelled}>{ "Pause" }</button>
                            }
                            <button type="button" id="bulk-cancel" class="secondary" onclick={on_cancel} disabled={l.cancelled}>{ "Cancel" }</button>
                        } else {
                            if !finished {
                                <button type="button" id="bulk-resume-kept" onclick={on_resume_kept} disabled={!rw}>{ "Resume batch" }</button>
                            } else if c.failed > 0 {
                                <button type="button" id="bulk-retry-failed" onclick={on_retry_failed} disabled={!rw}>{ format!("Retry the {} failed", c.failed) }</button>
                            }
                            <button type="button" id="bulk-read-back" class="secondary" onclick={on_read_back}>{ "Read every item back" }</button>
                            <button type="button" id="bulk-forget" class="secondary" onclick={on_discard}>{ if finished { "Forget this batch" } else { "Discard" } }</button>
                        }
                        <button type="button" id="bulk-report-csv" class="secondary" onclick={download(false)}>{ "Report CSV" }</button>
                        <button type="button" id="bulk-report-json" class="secondary" onclick={download(true)}>{ "Report JSON" }</button>
                    </div>
                    if !rw && (!finished || c.failed > 0) { { read_only_note.clone() } }
                    <div class="inv-scroll-ids" tabindex="0" role="region" aria-label="Items (scrolls)">
                    <table id="bulk-items">
                        <caption class="sr-only">{ "Items of the batch" }</caption>
                        <thead><tr>
                            <th scope="col">{ "Item" }</th><th scope="col">{ "Outcome" }</th><th scope="col">{ "HTTP status" }</th>
                            <th scope="col">{ "Correlation id" }</th><th scope="col">{ "Message" }</th><th scope="col">{ "Identities read back" }</th>
                        </tr></thead>
                        <tbody>
                            { for st.items.iter().take(LISTED).map(|it| html! {
                                <tr key={it.id.clone()} data-status={it.status.as_str()}>
                                    <th scope="row" title={it.id.clone()}>{ name_of(&it.id).to_string() }</th>
                                    <td>{ it.status.as_str() }</td>
                                    <td>{ it.http_status.map(|x| x.to_string()).unwrap_or_default() }</td>
                                    <td class="mono">{ it.correlation_id.clone().unwrap_or_default() }</td>
                                    <td>{ it.message.clone().unwrap_or_default() }</td>
                                    <td>{ rb.get(&it.id.to_ascii_lowercase()).cloned().unwrap_or_default() }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                    </div>
                                        if let (true, Some(id)) = (finished && c.failed == 0, spec.as_ref().and_then(|sp| sp.from_identity.clone())) {
                        <super::cleanup::DeleteIdentity identity={id} />
                    }
                    if st.items.len() > LISTED {
                        <p>{ format!("The first {LISTED} items are listed; the report holds all {}.", st.items.len()) }</p>
                    }
                </section>
            }
        }
    };
    html! {
        <section class="bulk">
            <nav aria-label="Breadcrumb" class="crumbs">
                <Link to={Route::Home}>{ "Start" }</Link>{ " / " }
                <Link to={Route::Inventory { query: String::new() }}>{ "Inventory" }</Link>{ " / " }
                <span aria-current="page">{ "Bulk change" }</span>
            </nav>
            <h2>{ "Bulk change" }</h2>
                        if let Some(e) = act.as_ref().and_then(|a| a.ended.borrow().clone()).or_else(|| (*error).clone()) {
                <p class="error" role="alert" id="bulk-error">{ e }</p>
            }
            { body }
        </section>
    }
}
