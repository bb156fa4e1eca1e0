//! The closed vocabulary of what a case may need from a target ([`Need`]): the one list of
//! the words a case's `requires:` may hold, the needs the loader infers (optional personas,
//! quotas, an operation's API version), and how each reads back as text.

use std::fmt;

use super::config::{CAPABILITIES, PERSONAS, REQUIRED_PERSONAS};

/// The import methods a case may need (`import-method:<name>`): Glance's.
pub const IMPORT_METHODS: &[&str] = &[
    "glance-direct",
    "web-download",
    "copy-image",
    "glance-download",
];

/// The needs that are one fixed word, besides capabilities and personas.
const WORDS: &[(&str, Need)] = &[
    ("member-quota", Need::MemberQuota),
    ("tag-quota", Need::TagQuota),
    ("stores", Need::Stores),
    ("multiple-stores", Need::MultipleStores),
    ("http-store", Need::HttpStore),
    ("cache", Need::Cache),
    ("locations-shown", Need::LocationsShown),
    ("locations-hidden", Need::LocationsHidden),
    ("image-format-match", Need::ImageFormatMatch),
    ("default-import-filter", Need::DefaultImportFilter),
    ("unified-limits", Need::UnifiedLimits),
];

/// One thing a case needs from a target; a case the target cannot satisfy is ignored, with
/// the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Need {
    /// A capability the target file declares (`fault-injection`, `rate-limit`).
    Capability(&'static str),
    /// An optional persona (`admin`, `other_member`, `reader`).
    Persona(&'static str),
    /// The target file gives `member_quota`.
    MemberQuota,
    /// The target file gives `tag_quota`.
    TagQuota,
    /// `api:2.N`: the target serves Image API v2.N or later (the number is N).
    Api(u32),
    /// `import-method:<name>`: `/v2/info/import` offers the method.
    ImportMethod(&'static str),
    /// `stores`: `/v2/info/stores` lists the stores, one of them the default.
    Stores,
    /// `multiple-stores`: at least two stores that take data, for copies among stores.
    MultipleStores,
    /// `http-store`: `/v2/info/stores` lists a read-only store (the reference marks its http
    /// stores so), which reads image data at URLs clients give (the locations API).
    HttpStore,
    /// `cache`: the image cache API (the target file's `deployment.cache`).
    Cache,
    /// `locations-shown`: images list their locations and patches of `/locations` are judged
    /// (`show_multiple_locations`; `show_image_direct_url` alone does not count).
    LocationsShown,
    /// `locations-hidden`: `show_multiple_locations` is off (the reference's default).
    LocationsHidden,
    /// `image-format-match`: data must be of the declared disk format
    /// (`require_image_format_match`, the reference's default).
    ImageFormatMatch,
    /// `default-import-filter`: the import filter is the reference's default (the target
    /// file names no `import_source`), for cases about what that filter refuses.
    DefaultImportFilter,
    /// `unified-limits`: `/v2/info/usage` reports limits (Keystone's unified limits,
    /// `use_keystone_limits`; off by default, when it reports none).
    UnifiedLimits,
}

impl Need {
    /// The need a word of `requires:` names, or `None` for a word outside the vocabulary.
    pub fn parse(word: &str) -> Option<Need> {
        if let Some(c) = CAPABILITIES.iter().find(|c| **c == word) {
            return Some(Need::Capability(c));
        }
        if let Some(p) = PERSONAS
            .iter()
            .find(|p| **p == word && !REQUIRED_PERSONAS.contains(p))
        {
            return Some(Need::Persona(p));
        }
        if let Some((_, n)) = WORDS.iter().find(|(w, _)| *w == word) {
            return Some(*n);
        }
        if let Some(minor) = word.strip_prefix("api:2.") {
            let ok =
                !minor.is_empty() && minor.len() <= 3 && minor.bytes().all(|b| b.is_ascii_digit());
            return ok.then(|| minor.parse().ok().map(Need::Api)).flatten();
        }
        if let Some(m) = word.strip_prefix("import-method:") {
            return IMPORT_METHODS
                .iter()
                .find(|k| **k == m)
                .map(|k| Need::ImportMethod(k));
        }
        None
    }

    /// Every form a word of `requires:` may take, for messages and the case schema.
    pub fn forms() -> Vec<String> {
        let mut out: Vec<String> = CAPABILITIES.iter().map(|c| c.to_string()).collect();
        out.extend(
            PERSONAS
                .iter()
                .filter(|p| !REQUIRED_PERSONAS.contains(p))
                .map(|p| p.to_string()),
        );
        out.extend(WORDS.iter().map(|(w, _)| w.to_string()));
        out.push("api:2.N".into());
        out.push(format!("import-method:<{}>", IMPORT_METHODS.join("|")));
        out
    }

    /// The fixed words (every form but `api:2.N`), for the case schema's enumeration.
    pub fn words() -> Vec<String> {
        let mut out: Vec<String> = Need::forms()
            .into_iter()
            .filter(|f| !f.contains('<') && !f.contains(":2.N"))
            .collect();
        out.extend(IMPORT_METHODS.iter().map(|m| format!("import-method:{m}")));
        out
    }
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Need::Capability(w) | Need::Persona(w) => f.write_str(w),
            Need::Api(minor) => write!(f, "api:2.{minor}"),
            Need::ImportMethod(m) => write!(f, "import-method:{m}"),
            other => {
                let word = WORDS
                    .iter()
                    .find(|(_, n)| n == other)
                    .map_or("?", |(w, _)| w);
                f.write_str(word)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back_as_itself() {
        for w in Need::words() {
            let n = Need::parse(&w).unwrap_or_else(|| panic!("`{w}` does not parse"));
            assert_eq!(n.to_string(), w);
        }
        assert_eq!(Need::parse("api:2.14"), Some(Need::Api(14)));
        assert_eq!(Need::Api(14).to_string(), "api:2.14");
    }

    #[test]
    fn words_outside_the_vocabulary_are_refused() {
        for w in [
            "",
            "owner",
            "stranger",
            "api:3.1",
            "api:2.",
            "api:2.x",
            "api:2.-1",
            "import-method:ftp",
            "import-method:",
            "Cache",
            "fault_injection",
        ] {
            assert_eq!(Need::parse(w), None, "`{w}` parsed");
        }
    }
}
