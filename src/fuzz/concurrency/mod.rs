//! Concurrency: N clients adding, updating and removing members of one image at the same
//! time; afterwards the target's member list must be what *some* serial order of the
//! acknowledged operations leaves behind (nothing acknowledged is lost, nothing unacknowledged
//! appears), and every answer must be the one the reference gives at that point of the order.
//!
//! [`run`] drives a target: the owner persona creates one shared image named
//! `sharecheck-<random>-concurrency` (so `sharecheck cleanup` finds leftovers), `clients`
//! tokio tasks each send a seeded random sequence of member operations on it, the owner reads
//! the final member list, the image is deleted (whatever happened before), and [`check`]
//! judges the recorded history.
//!
//! [`check`] is a pure function over (history, final member list), so tests can feed it
//! fabricated histories. It decides linearizability (Herlihy & Wing): is there a total order
//! of the operations that respects real time (an operation that completed before another was
//! sent comes first) in which every answer is the reference's answer and the last state is
//! the observed one?
//!
//! How the check stays cheap:
//! - **Per member.** Operations on different member ids commute, so each member id is checked
//!   on its own (P-compositionality). The member quota would couple them; [`run`] keeps the
//!   pool of member ids *below* the target's `member_quota` (when the target file states one;
//!   otherwise it assumes the quota is at least 9, Glance's default being 128), so no add can
//!   meet the quota. A 413 without `Retry-After` is therefore unexplained, which is what it
//!   should be if that assumption is wrong.
//! - **Search.** Per member, a depth-first search over the operations that may come next
//!   (those sent before the earliest completion among the operations not yet placed), with
//!   the Wing & Gong / Lowe memo of visited (placed set, member state) pairs. Refusals change
//!   nothing wherever they fit, so one that fits is placed at once without branching.
//! - **The rules come from [`Model`](crate::model::Model).** The per-member transition table (4 states × 5
//!   operations) is computed by running each operation on a fresh `Model` holding one shared
//!   image in the given state, so the rules have one source of truth. The quota is unlimited
//!   there (see above) and the member acts as a non-admin identity; an admin persona used as a
//!   member answers the same for its own row.
//!
//! What the answers mean to the check:
//! - 2xx: the operation took effect; the model must accept it in that state, and a body's
//!   `member_id` and `status`, when present, must match the model's row afterwards.
//! - 429, or 413 with `Retry-After`: throttled; no effect, no constraint (the client retries).
//! - any other 4xx: refused; the model must refuse it in that state with that same code.
//! - 5xx and transport errors: unknown; the operation may or may not have taken effect (at
//!   any point after it was sent, and before its answer for a 5xx). A transport error's
//!   request is assumed to have landed before the final read, which follows every answer.

mod check;
mod drive;

pub use check::{Answer, Op, OpKind, Verdict, check, check_answers};
pub use drive::{ConcurrencyOptions, ConcurrencyReport, run, run_in};
