//! `--report DIR`: the traceability and drift report, `DIR/report.md` and a self-contained
//! `DIR/report.html` (inline CSS, no scripts, nothing fetched).
//!
//! The matrix has one row per operation and one column per status code: every code of any
//! response-code table, plus every code a target produced that no table lists. A cell names
//! the cases citing that (operation, code) row and how each ended; cases filtered out by
//! libtest's options left no record and show as "not run". The drift section compares the
//! tables with what the target answered during the run (set-up, steps and clean-up included).
//! Never a token: the endpoint loses any user-info, and free text is redacted.

//!
//! `build.rs` gathers the data (`build::Report`); `markdown.rs` and `html.rs` write it.

mod authz;
mod build;
mod html;
mod markdown;

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::Suite;
use super::record::Record;
use crate::error::RunError;
use build::Report;

/// What the report says about the run besides the records.
pub(crate) struct RunInfo<'a> {
    /// The target's root URL.
    pub(crate) endpoint: &'a str,
    /// The run id (`sharecheck-<run id>-...` names).
    pub(crate) run_id: &'a str,
    /// When the trials started.
    pub(crate) started: SystemTime,
    /// Wall time of the trials.
    pub(crate) wall: Duration,
    /// Strings never to print (the personas' tokens).
    pub(crate) secrets: Vec<&'a str>,
}

/// Writes `dir/report.md` and `dir/report.html`.
pub(crate) fn write(
    dir: &Path,
    suite: &Suite,
    records: &[Record],
    info: &RunInfo<'_>,
) -> Result<(), RunError> {
    let report = Report::build(suite, records, info);
    std::fs::create_dir_all(dir).map_err(|source| RunError::Report {
        path: dir.to_path_buf(),
        source,
    })?;
    let html = report.html(&authz::html(suite, records));
    for (name, text) in [
        (
            "report.md",
            report.markdown() + &authz::markdown(suite, records),
        ),
        ("report.html", html),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| RunError::Report { path, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::build::public_endpoint;
    use super::html::esc;
    use super::markdown::md;

    #[test]
    fn the_endpoint_loses_its_user_info() {
        assert_eq!(
            public_endpoint("https://user:s3cret@glance.example:9292/image"),
            "https://glance.example:9292/image"
        );
        assert_eq!(
            public_endpoint("http://127.0.0.1:9292"),
            "http://127.0.0.1:9292"
        );
        assert_eq!(public_endpoint("http://host/path@x"), "http://host/path@x");
    }

    #[test]
    fn text_is_escaped_for_markdown_and_html() {
        assert_eq!(md("a|b `c` <d>\n e"), "a\\|b \\`c\\` \\<d\\> e");
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
