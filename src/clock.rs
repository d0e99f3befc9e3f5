//! The one place that reads the wall clock. Rules take `now` as a parameter, so that
//! tests control time; `clippy.toml` bans `Utc::now` everywhere else.

use chrono::{DateTime, SubsecRound, Utc};

/// Now, to the second: every timestamp keyhouse stores and shows has second precision.
#[allow(clippy::disallowed_methods)]
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}
