//! The index terms behind the filters of account lists. An account is in one posting
//! list per condition it meets: `s:<status>`, `r:<role>` for each role bound directly,
//! `g:<group id>` for each group. A filter requires one term per condition.
//!
//! Its text is in sets of account numbers: each trigram (run of three characters) of
//! its lower-cased name at its position (`p:<trigram>@<position>`), of a display name
//! that is more than the name in other letter case (`q:<trigram>@<position>`;
//! positions count characters), and the name's first one and two characters
//! (`f:<start>`). The conditions have sets too. A text holds a query of n characters
//! at position p just when it holds the query's i-th trigram at p + i for every i, so
//! these sets give a query's matches exactly, without reading a name; a query of fewer
//! than [`MIN_INDEXED_QUERY`] characters matches the names that start with it, the set
//! of that start.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::{AccountFilter, ServiceAccount};

/// The shortest query looked up by trigrams.
pub const MIN_INDEXED_QUERY: usize = 3;

/// Every run of three characters of `text`, lower-cased, in order: the i-th starts at
/// its i-th character.
pub fn trigram_runs(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let starts: Vec<usize> = lower
        .char_indices()
        .map(|(at, _)| at)
        .chain([lower.len()])
        .collect();
    starts
        .windows(MIN_INDEXED_QUERY + 1)
        .map(|w| lower[w[0]..w[MIN_INDEXED_QUERY]].to_owned())
        .collect()
}

/// Which text a positioned trigram is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Name,
    /// A display name that is more than the name in other letter case.
    OwnDisplayName,
}

impl Text {
    /// The start of the terms of its positioned trigrams: every term of `trigram` in
    /// this text begins with it, and no other does.
    pub fn trigram_prefix(self, trigram: &str) -> String {
        let mut prefix = String::with_capacity(trigram.len() + 8);
        prefix.push_str(match self {
            Text::Name => "p:",
            Text::OwnDisplayName => "q:",
        });
        prefix.push_str(trigram);
        prefix.push('@');
        prefix
    }

    /// The term of `trigram` at `position` of this text. Built without `format!`: a
    /// create makes one per character of its name.
    pub fn position_term(self, trigram: &str, position: usize) -> String {
        let mut term = self.trigram_prefix(trigram);
        let digits = position.to_string();
        for _ in digits.len()..3 {
            term.push('0');
        }
        term.push_str(&digits);
        term
    }

    /// The position in a term of this text's `trigram` (its prefix included).
    pub fn position_of(self, trigram: &str, term: &str) -> Option<usize> {
        term.strip_prefix(&self.trigram_prefix(trigram))?
            .parse()
            .ok()
    }
}

/// The `f:` term of `start`: the accounts whose name starts with it (one or two
/// characters).
fn start_term(start: &str) -> String {
    format!("f:{start}")
}

/// The term of the set that narrows the names that start with the first `len - 1`
/// characters of `name` to those that start with its first `len` (from 1): the set of
/// that start while it is shorter than a trigram, and then the name's trigram that ends
/// at that character, at its position. So the accounts whose name starts with the first
/// `len` characters of `name` are those in the sets of the terms of 1 to `len`.
pub fn name_start_term(name: &str, len: usize) -> Option<String> {
    let ends: Vec<usize> = name
        .char_indices()
        .map(|(at, _)| at)
        .skip(1)
        .chain([name.len()])
        .collect();
    let end = *ends.get(len.checked_sub(1)?)?;
    if len < MIN_INDEXED_QUERY {
        return Some(start_term(&name[..end]));
    }
    let start = match len - MIN_INDEXED_QUERY {
        0 => 0,
        at => ends[at - 1],
    };
    Some(Text::Name.position_term(&name[start..end].to_lowercase(), len - MIN_INDEXED_QUERY))
}

/// Whether `term` is a condition's (`s:`, `r:`, `g:`), which has a posting list as
/// well as a set.
pub fn is_condition_term(term: &str) -> bool {
    ["s:", "r:", "g:"].iter().any(|tag| term.starts_with(tag))
}

fn group_term(id: Uuid) -> String {
    format!("g:{}", id.simple())
}

impl ServiceAccount {
    /// Its terms of conditions: its status, roles and groups.
    pub fn condition_terms(&self) -> BTreeSet<String> {
        let mut terms = BTreeSet::from([format!("s:{}", self.status.as_str())]);
        terms.extend(self.roles.iter().map(|role| format!("r:{role}")));
        terms.extend(self.groups.iter().map(|id| group_term(*id)));
        terms
    }

    /// The terms of its sets of numbers: its conditions and its text's.
    pub fn set_terms(&self) -> BTreeSet<String> {
        let mut terms = self.condition_terms();
        terms.extend(self.text_set_terms());
        terms
    }

    /// The terms of its text's sets: the trigrams of its name and of a display name of
    /// its own, each at its position, and the first one and two characters of its name.
    pub fn text_set_terms(&self) -> BTreeSet<String> {
        let mut texts = vec![(Text::Name, self.name.as_str())];
        if self.has_own_display_name() {
            texts.push((Text::OwnDisplayName, &self.display_name));
        }
        let mut terms: BTreeSet<String> = texts
            .into_iter()
            .flat_map(|(text, value)| {
                trigram_runs(value)
                    .into_iter()
                    .enumerate()
                    .map(move |(at, trigram)| text.position_term(&trigram, at))
            })
            .collect();
        let name = self.name.as_str();
        terms.extend(
            name.char_indices()
                .skip(1)
                .map(|(end, _)| &name[..end])
                .chain([name])
                .take(MIN_INDEXED_QUERY - 1)
                .map(start_term),
        );
        terms
    }

    /// Whether its display name is more than its name in other letter case.
    fn has_own_display_name(&self) -> bool {
        self.display_name.to_lowercase() != self.name.as_str()
    }
}

impl AccountFilter {
    /// The condition terms an account must hold to match in a scope where the filter's
    /// group is the group `group` (`None`: the scope has no group of that name, and
    /// nothing matches there). The query is not among them.
    pub fn required_terms(&self, group: Option<Uuid>) -> Option<Vec<String>> {
        let mut terms = Vec::new();
        if let Some(status) = self.status {
            terms.push(format!("s:{}", status.as_str()));
        }
        if let Some(role) = &self.role {
            terms.push(format!("r:{role}"));
        }
        if self.group.is_some() {
            terms.push(group_term(group?));
        }
        Some(terms)
    }

    /// The trigrams of the query, in order: the i-th starts at its i-th character.
    pub fn query_trigrams(&self) -> Vec<String> {
        self.indexed_query().map(trigram_runs).unwrap_or_default()
    }

    /// The query, when it is long enough to be looked up by trigrams.
    pub fn indexed_query(&self) -> Option<&str> {
        self.query
            .as_deref()
            .filter(|q| q.chars().count() >= MIN_INDEXED_QUERY)
    }

    /// The term of the set of the names that start with the query, when it is shorter
    /// than a trigram.
    pub fn start_term(&self) -> Option<String> {
        self.name_prefix().map(start_term)
    }

    /// The query, when it is a name prefix (shorter than a trigram).
    pub fn name_prefix(&self) -> Option<&str> {
        self.query
            .as_deref()
            .filter(|q| q.chars().count() < MIN_INDEXED_QUERY)
    }

    /// Whether the query (if any) matches an account of `name` and `display_name`: a
    /// part of either, or for a short query the start of the name.
    pub fn matches_query(&self, name: &str, display_name: impl FnOnce() -> String) -> bool {
        self.matches_name(name)
            || self
                .indexed_query()
                .is_some_and(|query| display_name().to_lowercase().contains(query))
    }

    /// Whether the query (if any) matches `name` itself: a part of it, or for a short
    /// query its start. An account whose name does not may still match by its display
    /// name.
    pub fn matches_name(&self, name: &str) -> bool {
        match (self.name_prefix(), self.indexed_query()) {
            (Some(prefix), _) => name.starts_with(prefix),
            (None, Some(query)) => name.contains(query),
            (None, None) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigram_runs_count_characters_of_the_lower_cased_text() {
        assert_eq!(trigram_runs("AbÉab"), ["abé", "béa", "éab"]);
        assert!(trigram_runs("ab").is_empty());
        assert_eq!(trigram_runs("Äöü"), ["äöü"]);
        let term = Text::OwnDisplayName.position_term("a:b", 7);
        assert_eq!(term, "q:a:b@007");
        // The terms are stored: they must stay what `format!` wrote.
        for position in [0, 7, 42, 999, 1_000, 12_345] {
            let term = Text::Name.position_term("abc", position);
            assert_eq!(term, format!("p:abc@{position:03}"));
        }
        assert_eq!(Text::OwnDisplayName.position_of("a:b", &term), Some(7));
        assert_eq!(Text::Name.position_of("a:b", &term), None, "another text");
        assert_eq!(Text::OwnDisplayName.position_of("a:c", &term), None);
        let query = AccountFilter::new(Some("CI-B".into()), None, None, None);
        assert_eq!(
            query.query_trigrams(),
            ["ci-", "i-b"],
            "in the query's order"
        );
        assert_eq!(query.start_term(), None);
        let short = AccountFilter::new(Some("Ci".into()), None, None, None);
        assert_eq!(short.start_term().as_deref(), Some("f:ci"));
    }

    #[test]
    fn the_start_terms_of_a_name_are_among_its_set_terms() {
        let terms: Vec<String> = (1..=6)
            .map(|len| name_start_term("ci-bot", len).unwrap())
            .collect();
        assert_eq!(
            terms,
            [
                "f:c",
                "f:ci",
                "p:ci-@000",
                "p:i-b@001",
                "p:-bo@002",
                "p:bot@003"
            ]
        );
        assert_eq!(name_start_term("ci-bot", 0), None);
        assert_eq!(name_start_term("ci-bot", 7), None);
    }

    #[test]
    fn a_filter_requires_a_term_per_condition() {
        let group = Uuid::nil();
        let filter = AccountFilter::new(
            Some("BOT".into()),
            Some(super::super::Status::Disabled),
            Some(super::super::Name::parse("r", "viewer").unwrap()),
            Some(super::super::Name::parse("g", "team").unwrap()),
        );
        let terms = filter.required_terms(Some(group)).unwrap();
        assert_eq!(
            terms,
            [
                "s:disabled".to_owned(),
                "r:viewer".to_owned(),
                format!("g:{}", group.simple()),
            ]
        );
        assert!(terms.iter().all(|term| is_condition_term(term)));
        assert!(!is_condition_term("p:bot@000") && !is_condition_term("f:b"));
        assert_eq!(filter.required_terms(None), None, "no such group here");
        let short = AccountFilter::new(Some("ci".into()), None, None, None);
        assert_eq!(short.required_terms(None), Some(Vec::new()));
        assert!(short.matches_query("ci-bot", || unreachable!()));
        assert!(
            !short.matches_query("my-ci", || "ci".into()),
            "a prefix of the name"
        );
        let long = AccountFilter::new(Some("bot".into()), None, None, None);
        assert!(long.matches_query("x", || "Robot".into()));
        assert!(!long.matches_query("x", || "bo t".into()));
        assert!(long.matches_name("robot") && !long.matches_name("x"));
        assert!(short.matches_name("ci-bot") && !short.matches_name("my-ci"));
    }

    #[test]
    fn only_a_display_name_that_is_more_than_the_name_has_sets() {
        let account = |display: Option<&str>| {
            super::super::NewAccount {
                name: super::super::Name::parse("n", "ci-bot").unwrap(),
                display_name: display.map(str::to_owned),
                description: String::new(),
                metadata: Default::default(),
                roles: Default::default(),
                groups: Default::default(),
                expires_at: None,
                external_id: None,
            }
            .into_account(
                Uuid::nil(),
                super::super::ActorRef::system("test"),
                chrono::DateTime::UNIX_EPOCH,
            )
        };
        let own = account(Some("CI bot"));
        let texts = own.text_set_terms();
        assert!(texts.contains("p:ci-@000") && texts.contains("p:bot@003"));
        assert!(texts.contains("q:ci @000") && texts.contains("q:bot@003"));
        assert!(texts.contains("f:c") && texts.contains("f:ci"));
        assert_eq!(texts.len(), 10);
        assert_eq!(
            account(Some("CI-Bot")).text_set_terms().len(),
            6,
            "no display name of its own"
        );
        assert_eq!(
            account(None).text_set_terms(),
            account(Some("CI-Bot")).text_set_terms(),
            "the name itself"
        );
        assert!(own.set_terms().contains("s:active") && own.set_terms().is_superset(&texts));
    }
}
