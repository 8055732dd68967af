use arm_client::ArmError;
use yew::prelude::*;

/// What the user sees of an error: the message, what to do, and the ids support asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorView {
    pub title: String,
    pub message: String,
    pub hint: Option<String>,
    pub code: Option<String>,
    pub status: Option<u16>,
    pub correlation_id: Option<String>,
    pub retry_after_ms: Option<u64>,
}

impl From<&ArmError> for ErrorView {
    fn from(e: &ArmError) -> Self {
        ErrorView {
            title: match (e.status, e.code.as_deref()) {
                (Some(s), Some(c)) => format!("Azure answered {s} {c}"),
                (Some(s), None) => format!("Azure answered {s}"),
                (None, _) => format!("{:?} error", e.kind),
            },
            message: e.message.clone(),
            hint: e.hint(),
            code: e.code.clone(),
            status: e.status,
            correlation_id: e.correlation_id.clone(),
            retry_after_ms: e.retry_after_ms,
        }
    }
}

impl ErrorView {
    pub fn plain(title: &str, message: impl Into<String>) -> Self {
        ErrorView {
            title: title.into(),
            message: message.into(),
            hint: None,
            code: None,
            status: None,
            correlation_id: None,
            retry_after_ms: None,
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct ErrorBoxProps {
    pub error: ErrorView,
    #[prop_or_default]
    pub children: Html,
}

/// An error panel (text only: messages from Azure are never rendered as HTML).
#[component]
pub fn ErrorBox(props: &ErrorBoxProps) -> Html {
    let e = &props.error;
    html! {
        <div class="error" role="alert" data-code={e.code.clone()} data-status={e.status.map(|s| s.to_string())}>
            <strong>{ &e.title }</strong>
            <p class="message">{ &e.message }</p>
            if let Some(h) = &e.hint { <p class="hint">{ h }</p> }
            if let Some(c) = &e.correlation_id { <p class="ids">{ format!("Correlation id: {c}") }</p> }
            { props.children.clone() }
        </div>
    }
}
