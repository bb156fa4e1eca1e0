//! What a spec declares of its operation for the table: name, method, path template, success
//! status, request body kind and the API version it appeared in (`since`), read from the
//! spec's top-level keys.
//!
//! `build.rs` includes this file to write `OUT_DIR/declared.rs` (one constant per spec, `SHOW_IMAGE`
//! for `show_image`), and
//! the unit tests read a test-only spec with it, so both come from the same reading. It
//! depends on nothing but `std`. The suite's loader (`suite/spec.rs`) reads the same files in
//! full; a unit test checks that both readings agree. New facts of the declaration (a
//! configuration `requires`, an API `since`) are a key here and a field of `Declared`.

/// The request body a spec declares: `none`, `data` or a JSON document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// `request_body: none`: a GET with a body is refused (400) before anything is looked
    /// up, as the reference's request reader refuses it.
    None,
    /// `request_body: ignored`: no body is read, and one sent is ignored (the reference's
    /// list calls).
    Ignored,
    /// `request_body: data`: image data.
    Data,
    /// `request_body: {json: …}`.
    Json,
}

/// One operation as its spec declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Declared {
    /// The spec's `operation`.
    pub(crate) name: &'static str,
    /// HTTP method, upper-case.
    pub(crate) method: &'static str,
    /// Path template; `{…}` segments are parameters, passed to the handler in order.
    pub(crate) path: &'static str,
    /// The status of a success: the first 2xx code of the spec's response table.
    pub(crate) success: u16,
    /// The request body kind.
    pub(crate) body: Body,
    /// The Image API version the operation appeared in, `(2, N)` for `since: "2.N"`; `None`
    /// when the spec says nothing (v2.0).
    pub(crate) since: Option<(u32, u32)>,
}

/// A spec's declaration as text fields, before they become `'static`.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Read {
    pub(crate) name: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) success: u16,
    /// `None`, `Data` or `Json`, as the variant's name.
    pub(crate) body: &'static str,
    /// `since: "2.N"`.
    pub(crate) since: Option<(u32, u32)>,
}

/// The declaration in a spec's text, or what is missing, with its 1-based line.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn read(src: &str) -> Result<Read, String> {
    let mut out = Read::default();
    let mut in_responses = false;
    let mut body_line = None;
    for (i, line) in src.lines().enumerate() {
        let top = !line.starts_with([' ', '-', '#']) && !line.is_empty();
        if top {
            in_responses = false;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match key {
            "operation" => out.name = value.to_string(),
            "method" => out.method = value.to_string(),
            "path" => out.path = value.to_string(),
            "responses" => in_responses = true,
            "since" => {
                out.since = Some(version(value).ok_or_else(|| {
                    format!("line {}: since `{value}` is not a version 2.N", i + 1)
                })?);
            }
            "request_body" => {
                body_line = Some(i + 1);
                out.body = match value {
                    "none" => "None",
                    "ignored" => "Ignored",
                    "data" => "Data",
                    "" | "{json:" => "Json",
                    _ if value.starts_with("{json") => "Json",
                    other => return Err(format!("line {}: request_body `{other}`", i + 1)),
                };
            }
            _ if in_responses && out.success == 0 => {
                // `- code: 200` or `- {code: 200, name: …}`.
                let code = key.trim_start_matches([' ', '-', '{']);
                let value = value.split([',', '}']).next().unwrap_or("").trim();
                if code == "code"
                    && let Ok(c) = value.parse::<u16>()
                    && (200..300).contains(&c)
                {
                    out.success = c;
                }
            }
            _ => {}
        }
    }
    for (what, missing) in [
        ("operation", out.name.is_empty()),
        ("method", out.method.is_empty()),
        ("path", out.path.is_empty()),
        ("request_body", body_line.is_none()),
        ("a 2xx code under responses", out.success == 0),
    ] {
        if missing {
            return Err(format!("no {what}"));
        }
    }
    Ok(out)
}

/// `2.N` as `(2, N)`; nothing else.
fn version(text: &str) -> Option<(u32, u32)> {
    let minor = text.strip_prefix("2.")?;
    if minor.is_empty() || minor.len() > 3 || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((2, minor.parse().ok()?))
}
