//! Carrying out a plan, one API call at a time, so that every change is audited under
//! the caller and every rule of the API applies. The first refusal stops the run; what
//! was done before it is listed. Each object is one call (a new account's public keys
//! follow it), so a refusal leaves no half-made object behind.

use std::io::IsTerminal;

use super::plan::{Action, Step};
use crate::cli::client::{Api, ClientError, secret_of, write_private};

/// What a run did before it stopped, and why it stopped.
pub struct Stopped {
    pub done: Vec<String>,
    pub at: String,
    pub error: ClientError,
}

/// Carries out every step that changes something, saying so on standard error: a line
/// per step (on a terminal, one line rewritten in place).
pub fn execute(api: &Api, steps: &[Step]) -> Result<Vec<String>, Stopped> {
    let work: Vec<&Step> = steps
        .iter()
        .filter(|s| s.action != Action::Unchanged)
        .collect();
    let terminal = std::io::stderr().is_terminal();
    let mut done = Vec::new();
    for (index, step) in work.iter().enumerate() {
        let line = format!("{} {}", verb(step.action), step.label());
        if terminal {
            eprint!("\r\x1b[2K[{}/{}] {line}", index + 1, work.len());
        } else {
            eprintln!("keyhouse: [{}/{}] {line}", index + 1, work.len());
        }
        for call in &step.calls {
            let outcome = api
                .call(call.method.clone(), &call.path, call.body.as_ref())
                .and_then(|answer| match (&call.secret_to, secret_of(&answer)) {
                    (Some(path), Some(secret)) => {
                        write_private(path, format!("{secret}\n").as_bytes())
                    }
                    _ => Ok(()),
                });
            if let Err(error) = outcome {
                if terminal {
                    eprintln!();
                }
                return Err(Stopped {
                    done,
                    at: line,
                    error,
                });
            }
        }
        done.push(line);
    }
    if terminal && !work.is_empty() {
        eprintln!();
    }
    Ok(done)
}

pub fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
        Action::Unchanged => "unchanged",
    }
}
