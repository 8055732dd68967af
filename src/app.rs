use crate::components::{
    footer::Footer, header::Header, scenario_list::ScenarioList, signin::AuthProvider,
};
use yew::prelude::*;

/// The application shell: header, the scenario catalogue, footer.
#[component]
pub fn App() -> Html {
    html! {
        <AuthProvider>
            <Header />
            <main class="content" id="main">
                <ScenarioList />
            </main>
            <Footer />
        </AuthProvider>
    }
}
