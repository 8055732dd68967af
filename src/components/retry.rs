use crate::session::RetryNote;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RetryProps {
    pub note: RetryNote,
}

/// "Azure is throttling: retrying in 3 s" — a visible wait while the ARM client backs off. The
/// countdown is exact when the server's `Retry-After` was readable, an estimate otherwise; it
/// disappears when the retry has gone out.
#[component]
pub fn RetryBanner(props: &RetryProps) -> Html {
    let tick = use_state(|| 0u32);
    let left_ms = (props.note.at_ms - js_sys::Date::now()).max(0.0);
    {
        let tick = tick.clone();
        let running = left_ms > 0.0;
        use_effect_with((props.note.clone(), *tick), move |_| {
            let t = running
                .then(|| gloo_timers::callback::Timeout::new(250, move || tick.set(*tick + 1)));
            move || drop(t)
        });
    }
    if left_ms <= 0.0 {
        return html! {};
    }
    let n = &props.note;
    let why = match n.status {
        Some(429) => "Azure is throttling requests (429)".to_string(),
        Some(s) => format!("Azure answered {s}"),
        None => "The connection dropped".to_string(),
    };
    let secs = (left_ms / 1000.0).ceil() as u64;
    html! {
        <div class="retry-wait" id="retry-wait" role="status" aria-live="polite" data-status={n.status.map(|s| s.to_string())}>
            { format!("{why}: the {} is retried in {secs} s (retry {}){}.", n.method, n.retry,
                if n.from_retry_after { ", as Azure asked" } else { "" }) }
        </div>
    }
}
