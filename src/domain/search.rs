//! The index terms behind the filters of account lists. An account is indexed under
//! one term per filterable value it has: `s:<status>`, `r:<role>` for each role bound
//! directly, `g:<group id>` for each group, and `t:<trigram>` for each run of three
//! characters of its lower-cased name and display name. A display name that is more
//! than the name in other letter case also gives `d:<trigram>` for each of its own
//! trigrams: a candidate whose name does not hold the query can only match by its
//! display name, and these lists say which can (most accounts keep their name as
//! display name, and are in none). A filter requires one term per condition; a query of
//! fewer than [`MIN_INDEXED_QUERY`] characters has no trigram and matches names that
//! start with it.
//!
//! Sets of account numbers are kept for the conditions' terms, for trigrams at their
//! positions (`p:<trigram>@<position>` for the name, `q:<trigram>@<position>` for a
//! display name of its own; positions count characters of the lower-cased text), and
//! for the name's first one and two characters (`f:<start>`). A text holds a query of
//! n characters at position p just when it holds the query's i-th trigram at p + i for
//! every i, so these sets count a query's matches exactly, without reading a name; a
//! short query's are the set of its start.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::{AccountFilter, ServiceAccount};

/// The shortest query looked up by trigrams.
pub const MIN_INDEXED_QUERY: usize = 3;

/// Every run of three characters of `text`, lower-cased.
pub fn trigrams(text: &str) -> BTreeSet<String> {
    trigram_runs(text).into_iter().collect()
}

/// Every run of three characters of `text`, lower-cased, in order: the i-th starts at
/// its i-th character.
pub fn trigram_runs(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    chars
        .windows(MIN_INDEXED_QUERY)
        .map(|w| w.iter().collect())
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
        let tag = match self {
            Text::Name => 'p',
            Text::OwnDisplayName => 'q',
        };
        format!("{tag}:{trigram}@")
    }

    /// The term of `trigram` at `position` of this text.
    pub fn position_term(self, trigram: &str, position: usize) -> String {
        format!("{}{position:03}", self.trigram_prefix(trigram))
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

/// The `t:` term of `trigram`: the accounts whose name or display name holds it.
pub fn trigram_term(trigram: &str) -> String {
    format!("t:{trigram}")
}

fn display_term(trigram: &str) -> String {
    format!("d:{trigram}")
}

/// Whether `term` is a trigram of a name or display name, not a condition's term.
pub fn is_text_term(term: &str) -> bool {
    term.starts_with("t:") || term.starts_with("d:")
}

fn group_term(id: Uuid) -> String {
    format!("g:{}", id.simple())
}

impl ServiceAccount {
    /// The terms this account is indexed under.
    pub fn index_terms(&self) -> BTreeSet<String> {
        let mut terms = self.condition_terms();
        let display = trigrams(&self.display_name);
        if self.has_own_display_name() {
            terms.extend(display.iter().map(|t| display_term(t)));
        }
        let mut text = trigrams(self.name.as_str());
        text.extend(display);
        terms.extend(text.iter().map(|t| trigram_term(t)));
        terms
    }

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

    /// Its `d:` terms: the trigrams of a display name that is not just the name.
    pub fn display_terms(&self) -> BTreeSet<String> {
        if !self.has_own_display_name() {
            return BTreeSet::new();
        }
        trigrams(&self.display_name)
            .iter()
            .map(|t| display_term(t))
            .collect()
    }

    /// Whether its display name is more than its name in other letter case.
    fn has_own_display_name(&self) -> bool {
        self.display_name.to_lowercase() != self.name.as_str()
    }
}

impl AccountFilter {
    /// The terms an account must hold to match in a scope where the filter's group is
    /// the group `group` (`None`: the scope has no group of that name, and nothing
    /// matches there). A query's trigrams are necessary, not sufficient: a match is
    /// confirmed by [`AccountFilter::matches_query`].
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
        if let Some(query) = self.indexed_query() {
            terms.extend(trigrams(query).iter().map(|t| trigram_term(t)));
        }
        Some(terms)
    }

    /// The `d:` terms an account whose name does not hold the query must hold to
    /// match it by its display name: one per trigram of the query (none for a short
    /// query, which only names match).
    pub fn display_terms(&self) -> Vec<String> {
        self.indexed_query()
            .map(|query| trigrams(query).iter().map(|t| display_term(t)).collect())
            .unwrap_or_default()
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

    /// Whether the query is one trigram, and so matches exactly the accounts indexed
    /// under its `t:` term: a name or display name holds three characters in a row
    /// just when they are one of its trigrams.
    pub fn query_is_its_trigram(&self) -> bool {
        self.indexed_query()
            .is_some_and(|q| q.chars().count() == MIN_INDEXED_QUERY)
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
        match (self.name_prefix(), self.indexed_query()) {
            (Some(prefix), _) => name.starts_with(prefix),
            (None, Some(query)) => {
                name.contains(query) || display_name().to_lowercase().contains(query)
            }
            (None, None) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigrams_are_runs_of_three_lower_cased_characters() {
        assert_eq!(
            trigrams("CI-Bot"),
            BTreeSet::from(["ci-".into(), "i-b".into(), "-bo".into(), "bot".into()])
        );
        assert!(trigrams("ab").is_empty());
        assert_eq!(trigrams("Äöü").len(), 1);
    }

    #[test]
    fn trigram_runs_count_characters_of_the_lower_cased_text() {
        assert_eq!(trigram_runs("AbÉab"), ["abé", "béa", "éab"]);
        let term = Text::OwnDisplayName.position_term("a:b", 7);
        assert_eq!(term, "q:a:b@007");
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
                "t:bot".to_owned()
            ]
        );
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
        assert!(long.query_is_its_trigram());
        let longer = AccountFilter::new(Some("bbbb".into()), None, None, None);
        assert!(!longer.query_is_its_trigram() && !short.query_is_its_trigram());
    }

    #[test]
    fn only_a_display_name_that_is_more_than_the_name_has_display_terms() {
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
        assert!(account(None).display_terms().is_empty(), "the name");
        assert!(
            account(Some("CI-Bot")).display_terms().is_empty(),
            "its case"
        );
        let own = account(Some("CI bot"));
        assert_eq!(
            own.display_terms(),
            BTreeSet::from([
                "d:ci ".into(),
                "d:i b".into(),
                "d: bo".into(),
                "d:bot".into()
            ])
        );
        assert!(own.display_terms().is_subset(&own.index_terms()));
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
        assert!(own.set_terms().contains("s:active") && own.set_terms().is_superset(&texts));
        let filter = AccountFilter::new(Some("i bot".into()), None, None, None);
        assert_eq!(filter.display_terms(), ["d: bo", "d:bot", "d:i b"]);
        let short = AccountFilter::new(Some("ci".into()), None, None, None);
        assert!(short.display_terms().is_empty());
    }
}
