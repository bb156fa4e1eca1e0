//! Where an import's or a copy's data lands: the stores asked for, those that took it,
//! the read-only ones that refused it, and whether that fails the task.

use serde_json::{Value, json};

/// A finished import task's message: the whole MiB of data it wrote.
pub(super) fn copied(size: u64) -> String {
    format!("Copied {} MiB", size >> 20)
}

/// What an import or copy did to the stores: where the data went, where it could not go.
pub(super) struct Landing {
    /// The task's `backend`: the stores it was asked to write (`[null]` without stores).
    pub(super) backend: Value,
    /// Stores that now hold the data.
    pub(super) written: Vec<String>,
    /// Read-only stores that refused it.
    pub(super) failed: Vec<String>,
    /// The task failed (a store refused and every store had to succeed).
    pub(super) task_failed: bool,
}

impl Landing {
    pub(super) fn of(
        deployment: &super::Deployment,
        targets: Option<Vec<String>>,
        all_must: bool,
    ) -> Self {
        let Some(targets) = targets else {
            return Landing {
                backend: json!([null]),
                written: Vec::new(),
                failed: Vec::new(),
                task_failed: false,
            };
        };
        let (failed, written): (Vec<String>, Vec<String>) = targets
            .iter()
            .cloned()
            .partition(|id| deployment.store(id).is_some_and(|s| s.read_only));
        let task_failed = !failed.is_empty() && all_must;
        Landing {
            backend: json!(targets),
            written: if task_failed { Vec::new() } else { written },
            failed,
            task_failed,
        }
    }
}
