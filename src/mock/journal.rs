//! The request journal: what the mock was asked and what it answered, in order, readable the
//! moment an answer leaves (an entry is written before the response is handed to the
//! connection). Tokens are never kept; the caller is kept by user and project id, and named
//! (its user name) only when the journal is read.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// Entries kept at most; older ones are dropped (and counted).
pub(crate) const JOURNAL_CAPACITY: usize = 20_000;
/// The longest path or query an entry keeps (longer ones are cut and end in `…`), so that
/// the journal of a hostile run stays small.
pub(crate) const KEPT_CHARS: usize = 512;

/// `s`, cut at [`KEPT_CHARS`] characters.
pub(crate) fn kept(s: &str) -> String {
    match s.char_indices().nth(KEPT_CHARS) {
        None => s.to_string(),
        Some((end, _)) => format!("{}…", &s[..end]),
    }
}

/// One request and its answer.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Entry {
    /// Place in the order of requests, from 1.
    pub(crate) seq: u64,
    /// When the answer was sent (written as RFC 3339 with microseconds when read).
    #[serde(serialize_with = "rfc3339_micros")]
    pub(crate) time: std::time::SystemTime,
    pub(crate) method: String,
    pub(crate) path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) query: String,
    /// The request's id: the client's `x-openstack-request-id`, or the one the mock minted
    /// (the answers that carry an id carry this one).
    pub(crate) request_id: String,
    /// The caller's user name (or id, when the user is not in the identities); `None` for a
    /// request without a valid token. Filled in when the journal is read ([`Entry::named`]).
    pub(crate) persona: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) project_id: Option<String>,
    /// The operation of the table the request matched, if any.
    pub(crate) operation: Option<&'static str>,
    pub(crate) status: u16,
    /// Whether the request follows the documentation (operation, media type, body).
    pub(crate) documented: bool,
    /// Where it does not, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) problems: Vec<String>,
    /// The injected fault, if one answered or bent this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fault: Option<String>,
    /// Time spent answering, in microseconds (injected latency included).
    pub(crate) micros: u64,
}

impl Entry {
    /// The entry with `persona` filled in: the name `name_of` gives the user id, or the id.
    pub(crate) fn named(mut self, name_of: &impl Fn(&str) -> Option<String>) -> Entry {
        self.persona = self
            .user_id
            .as_deref()
            .map(|id| name_of(id).unwrap_or_else(|| id.to_string()));
        self
    }
}

fn rfc3339_micros<S: serde::Serializer>(
    t: &std::time::SystemTime,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_rfc3339_micros(*t))
}

/// What the journal's reader may select by.
#[derive(Debug, Default)]
pub(crate) struct Select {
    pub(crate) method: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) persona: Option<String>,
}

impl Select {
    /// Whether the method and path select `e` (the persona is known only once it is named).
    fn keeps_request(&self, e: &Entry) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&e.method))
            && self
                .path
                .as_deref()
                .is_none_or(|p| super::faults::path_matches(p, &e.path))
    }

    /// Whether the persona selects the named entry `e`.
    fn keeps_caller(&self, e: &Entry) -> bool {
        self.persona.as_deref().is_none_or(|p| {
            [&e.persona, &e.user_id, &e.project_id]
                .iter()
                .any(|v| v.as_deref() == Some(p))
        })
    }
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<Entry>,
    next: u64,
    dropped: u64,
}

/// The journal, shared by every connection.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    inner: Mutex<Inner>,
}

impl Journal {
    /// Appends `entry`, numbering it.
    pub(crate) fn push(&self, mut entry: Entry) {
        let mut inner = self.inner.lock().expect("journal lock");
        inner.next += 1;
        entry.seq = inner.next;
        if inner.entries.len() >= JOURNAL_CAPACITY {
            inner.entries.pop_front();
            inner.dropped += 1;
        }
        inner.entries.push_back(entry);
    }

    /// The entries `select` keeps, oldest first, each named by `name_of` (a user id to its
    /// user name), and how many were dropped for space.
    pub(crate) fn read(
        &self,
        select: &Select,
        name_of: impl Fn(&str) -> Option<String>,
    ) -> (Vec<Entry>, u64) {
        let (picked, dropped) = {
            let inner = self.inner.lock().expect("journal lock");
            let picked: Vec<Entry> = inner
                .entries
                .iter()
                .filter(|e| select.keeps_request(e))
                .cloned()
                .collect();
            (picked, inner.dropped)
        };
        let kept = picked
            .into_iter()
            .map(|e| e.named(&name_of))
            .filter(|e| select.keeps_caller(e))
            .collect();
        (kept, dropped)
    }

    /// Empties the journal; numbering goes on.
    pub(crate) fn clear(&self) {
        let mut inner = self.inner.lock().expect("journal lock");
        inner.entries.clear();
        inner.dropped = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, path: &str, persona: &str) -> Entry {
        Entry {
            seq: 0,
            time: std::time::UNIX_EPOCH,
            method: method.into(),
            path: path.into(),
            query: String::new(),
            request_id: format!("req-{persona}"),
            persona: None,
            user_id: Some(format!("user-{persona}")),
            project_id: Some(format!("proj-{persona}")),
            operation: None,
            status: 200,
            documented: true,
            problems: Vec::new(),
            fault: None,
            micros: 0,
        }
    }

    /// Names as the identities would: `user-NAME` is user NAME.
    fn named(id: &str) -> Option<String> {
        id.strip_prefix("user-")
            .filter(|n| *n != "ghost")
            .map(str::to_string)
    }

    #[test]
    fn long_paths_are_cut() {
        assert_eq!(kept("/v2/images"), "/v2/images");
        let long = "é".repeat(KEPT_CHARS + 10);
        let cut = kept(&long);
        assert_eq!(cut.chars().count(), KEPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn the_oldest_entries_make_room_and_are_counted() {
        let j = Journal::default();
        for _ in 0..JOURNAL_CAPACITY + 3 {
            j.push(entry("GET", "/v2/images", "owner"));
        }
        let (all, dropped) = j.read(&Select::default(), named);
        assert_eq!((all.len(), dropped), (JOURNAL_CAPACITY, 3));
        assert_eq!(all[0].seq, 4);
    }

    #[test]
    fn entries_are_numbered_selected_and_cleared() {
        let j = Journal::default();
        j.push(entry("GET", "/v2/images", "owner"));
        j.push(entry("POST", "/v2/images/abc/members", "member"));
        j.push(entry("GET", "/v2/images/abc/members", "owner"));
        let (all, dropped) = j.read(&Select::default(), named);
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(all[1].persona.as_deref(), Some("member"));
        assert_eq!(all[1].request_id, "req-member");
        assert_eq!(dropped, 0);
        let by = |method: Option<&str>, path: Option<&str>, persona: Option<&str>| {
            let select = Select {
                method: method.map(Into::into),
                path: path.map(Into::into),
                persona: persona.map(Into::into),
            };
            j.read(&select, named)
                .0
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(by(Some("get"), None, None), [1, 3]);
        assert_eq!(by(None, Some("/v2/images/*/members"), None), [2, 3]);
        assert_eq!(by(None, None, Some("member")), [2]);
        assert_eq!(by(None, None, Some("proj-owner")), [1, 3]);
        assert_eq!(
            by(Some("GET"), Some("/v2/images/*/members"), Some("owner")),
            [3]
        );
        j.clear();
        assert!(j.read(&Select::default(), named).0.is_empty());
        j.push(entry("GET", "/v2/images", "owner"));
        assert_eq!(j.read(&Select::default(), named).0[0].seq, 4);
    }

    #[test]
    fn a_user_without_a_name_is_named_by_id() {
        let j = Journal::default();
        j.push(entry("GET", "/v2/images", "ghost"));
        let (all, _) = j.read(&Select::default(), |_| None);
        assert_eq!(all[0].persona.as_deref(), Some("user-ghost"));
        let select = Select {
            persona: Some("user-ghost".into()),
            ..Select::default()
        };
        assert_eq!(j.read(&select, |_| None).0.len(), 1);
        let mut anonymous = entry("GET", "/v2/images", "x");
        anonymous.user_id = None;
        assert_eq!(anonymous.named(&named).persona, None);
    }
}
