//! Paging of lists: `page`/`per_page` or an opaque `page_token`, and the page itself.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;

pub const DEFAULT_PER_PAGE: u32 = 100;
pub const MAX_PER_PAGE: u32 = 1000;

/// Which page a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
    /// From a `page_token`: the page starts after this key (keyset paging).
    pub after: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total_count: u64,
    /// False when `total_count` is a lower bound of the matches: counting them exactly
    /// would have cost more than the page (API.md's list rules).
    pub total_count_exact: bool,
    pub page: u32,
    pub per_page: u32,
    pub next_page_token: Option<String>,
}

impl<T> Page<T> {
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            total_count: self.total_count,
            total_count_exact: self.total_count_exact,
            page: self.page,
            per_page: self.per_page,
            next_page_token: self.next_page_token,
        })
    }
}

fn number(field: &str, value: Option<&str>, default: u32, range: (u32, u32)) -> Result<u32, Error> {
    let Some(value) = value else {
        return Ok(default);
    };
    let reason = format!("must be a whole number from {} to {}", range.0, range.1);
    match value.parse::<u32>() {
        Ok(n) if (range.0..=range.1).contains(&n) => Ok(n),
        _ => Err(Error::invalid(field, reason)),
    }
}

impl PageRequest {
    /// From the raw query parameters; each bad one is a 400 naming it.
    pub fn parse(
        page: Option<&str>,
        per_page: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<PageRequest, Error> {
        let per_page = number("per_page", per_page, DEFAULT_PER_PAGE, (1, MAX_PER_PAGE))?;
        let mut request = PageRequest {
            page: number("page", page, 1, (1, u32::MAX))?,
            per_page,
            after: None,
        };
        if let Some(token) = page_token.filter(|t| !t.is_empty()) {
            if page.is_some() {
                return Err(Error::invalid("page_token", "cannot be combined with page"));
            }
            let (page, after) = decode_token(token)
                .ok_or_else(|| Error::invalid("page_token", "is not a token this server issued"))?;
            request.page = page;
            request.after = Some(after);
        }
        Ok(request)
    }

    /// How many matching items come before this page, when it has no `after` key.
    pub fn offset(&self) -> usize {
        (self.page as usize - 1).saturating_mul(self.per_page as usize)
    }

    /// Cuts this page from `items`: every matching item in key order, each with its key.
    /// Counts them all for `total_count`.
    pub fn cut<T>(
        &self,
        items: impl Iterator<Item = Result<(String, T), Error>>,
    ) -> Result<Page<T>, Error> {
        let mut total = 0u64;
        let mut before = 0usize;
        let mut window = Vec::new();
        let mut has_more = false;
        for item in items {
            let (key, value) = item?;
            total += 1;
            let is_before = match &self.after {
                Some(after) => key.as_str() <= after.as_str(),
                None => {
                    before += 1;
                    before <= self.offset()
                }
            };
            if is_before {
                continue;
            }
            if window.len() < self.per_page as usize {
                window.push((key, value));
            } else {
                has_more = true;
            }
        }
        Ok(self.finish(window, has_more, total))
    }

    /// This page from `window`, which the caller already started at the page's first
    /// item and cut at `per_page + 1` items, with a known total.
    pub fn from_window<T>(&self, mut window: Vec<(String, T)>, total: u64) -> Page<T> {
        let has_more = window.len() > self.per_page as usize;
        window.truncate(self.per_page as usize);
        self.finish(window, has_more, total)
    }

    /// `page`, whose `total_count` was counted only in part, as a lower bound: at least
    /// the matches this page shows and, without a `page_token` (where the matches before
    /// it are known to be its offset), those before it, and one more when another page
    /// follows.
    pub fn at_least<T>(&self, mut page: Page<T>) -> Page<T> {
        let before = match self.after {
            Some(_) => 0,
            None => self.offset() as u64,
        };
        let seen = before + page.items.len() as u64 + u64::from(page.next_page_token.is_some());
        page.total_count = page.total_count.max(seen);
        page.total_count_exact = false;
        page
    }

    fn finish<T>(&self, window: Vec<(String, T)>, has_more: bool, total: u64) -> Page<T> {
        let next_page_token = match window.last() {
            Some((key, _)) if has_more => Some(encode_token(self.page.saturating_add(1), key)),
            _ => None,
        };
        Page {
            items: window.into_iter().map(|(_, v)| v).collect(),
            total_count: total,
            total_count_exact: true,
            page: self.page,
            per_page: self.per_page,
            next_page_token,
        }
    }
}

fn encode_token(page: u32, after: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{page}\n{after}"))
}

fn decode_token(token: &str) -> Option<(u32, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (page, after) = text.split_once('\n')?;
    let page: u32 = page.parse().ok()?;
    (page >= 2 && !after.is_empty()).then(|| (page, after.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> impl Iterator<Item = Result<(String, usize), Error>> {
        (0..n).map(|i| Ok((format!("k{i:03}"), i)))
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let err = PageRequest::parse(None, Some("0"), None).unwrap_err();
        assert!(err.to_string().contains("per_page"));
        assert!(PageRequest::parse(None, Some("1001"), None).is_err());
        assert!(PageRequest::parse(None, Some("x"), None).is_err());
        let err = PageRequest::parse(Some("0"), None, None).unwrap_err();
        assert!(err.to_string().contains("page"));
        assert!(PageRequest::parse(Some("-1"), None, None).is_err());
        assert!(PageRequest::parse(None, None, Some("garbage!")).is_err());
        let ok = PageRequest::parse(None, None, None).unwrap();
        assert_eq!((ok.page, ok.per_page), (1, 100));
    }

    #[test]
    fn offset_pages_and_tokens_agree() {
        let first = PageRequest::parse(None, Some("10"), None).unwrap();
        let page = first.cut(keys(25)).unwrap();
        assert_eq!(page.items, (0..10).collect::<Vec<_>>());
        assert_eq!(page.total_count, 25);
        let token = page.next_page_token.unwrap();
        let second = PageRequest::parse(None, Some("10"), Some(&token)).unwrap();
        assert_eq!(second.page, 2);
        let by_token = second.cut(keys(25)).unwrap();
        let by_number = PageRequest::parse(Some("2"), Some("10"), None)
            .unwrap()
            .cut(keys(25))
            .unwrap();
        assert_eq!(by_token.items, by_number.items);
        let third = PageRequest::parse(None, Some("10"), by_token.next_page_token.as_deref())
            .unwrap()
            .cut(keys(25))
            .unwrap();
        assert_eq!(third.items, (20..25).collect::<Vec<_>>());
        assert_eq!(third.next_page_token, None);
    }

    #[test]
    fn a_window_with_one_extra_item_has_a_next_page() {
        let request = PageRequest::parse(None, Some("2"), None).unwrap();
        let window: Vec<_> = keys(3).map(Result::unwrap).collect();
        let page = request.from_window(window, 10);
        assert_eq!(page.items, vec![0, 1]);
        assert!(page.next_page_token.is_some());
        let page = request.from_window(keys(2).map(Result::unwrap).collect(), 2);
        assert!(page.next_page_token.is_none());
    }

    #[test]
    fn a_count_in_part_is_at_least_what_the_page_shows() {
        let third = PageRequest::parse(Some("3"), Some("2"), None).unwrap();
        let page = third.from_window(keys(3).map(Result::unwrap).collect(), 1);
        assert!(page.total_count_exact);
        let page = third.at_least(page);
        assert!(!page.total_count_exact);
        assert_eq!(
            page.total_count,
            4 + 2 + 1,
            "four before, two shown, more after"
        );
        let by_token = PageRequest::parse(None, Some("2"), Some(&encode_token(3, "k"))).unwrap();
        let page =
            by_token.at_least(by_token.from_window(keys(2).map(Result::unwrap).collect(), 9));
        assert_eq!(page.total_count, 9, "a larger partial count stands");
    }

    #[test]
    fn a_page_token_cannot_be_mixed_with_page() {
        let err = PageRequest::parse(Some("2"), None, Some(&encode_token(2, "a"))).unwrap_err();
        assert!(err.to_string().contains("page_token"));
    }
}
