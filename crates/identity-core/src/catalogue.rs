//! The identity scenarios the app offers, as static data (titles and one-line summaries).

/// What a scenario applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// An existing scale set or VM.
    Existing,
    /// A resource that the wizard creates.
    Create,
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// Stable slug, used in routes (`/wizard/{slug}`).
    pub slug: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub applies: Applies,
}

/// Every scenario, in the order the app lists them.
///
/// ```
/// let slugs: Vec<_> = identity_core::catalogue::SCENARIOS.iter().map(|s| s.slug).collect();
/// assert!(slugs.contains(&"enable-system-assigned"));
/// ```
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        slug: "enable-system-assigned",
        title: "Enable the system-assigned identity",
        summary: "Turn on the identity that lives and dies with the scale set or VM; user-assigned identities are kept.",
        applies: Applies::Existing,
    },
    Scenario {
        slug: "remove-system-assigned",
        title: "Remove the system-assigned identity",
        summary: "Turn it off while keeping every user-assigned identity; role assignments held by its principal stop applying.",
        applies: Applies::Existing,
    },
    Scenario {
        slug: "assign-user-assigned",
        title: "Assign user-assigned identities",
        summary: "Add one or several existing (or newly created) identities without dropping any that are already there.",
        applies: Applies::Existing,
    },
    Scenario {
        slug: "remove-user-assigned",
        title: "Remove user-assigned identities",
        summary: "Remove one or several identities; the others and the system-assigned identity stay.",
        applies: Applies::Existing,
    },
    Scenario {
        slug: "create-scale-set",
        title: "Create a scale set with an identity",
        summary: "A new Uniform or Flexible scale set with system-assigned and/or user-assigned identities from the start.",
        applies: Applies::Create,
    },
    Scenario {
        slug: "remove-legacy-extension",
        title: "Remove the legacy managed-identity extension",
        summary: "Detect and remove the retired ManagedIdentityExtension; tokens come from the instance metadata service (IMDS).",
        applies: Applies::Existing,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_url_safe() {
        let mut seen = std::collections::HashSet::new();
        for s in SCENARIOS {
            assert!(seen.insert(s.slug), "duplicate slug {}", s.slug);
            assert!(
                s.slug.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                s.slug
            );
        }
    }

    #[test]
    fn legacy_extension_is_only_ever_removed() {
        for s in SCENARIOS {
            let t = s.title.to_lowercase();
            assert!(
                !(t.contains("extension") && (t.contains("install") || t.contains("add"))),
                "{}",
                s.title
            );
        }
    }
}
