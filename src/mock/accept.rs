//! Which error format an `Accept` header asks for, chosen as the reference's web framework
//! chooses: of HTML and JSON, the one with the higher quality (HTML on a tie); plain text
//! when the header accepts neither, is empty or missing; HTML for a header it cannot read
//! (taken as accepting anything).

/// An error body's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Html,
    Text,
}

/// The format for the value of `Accept` (empty when the request has none).
pub(crate) fn format_for(accept: &str) -> Format {
    let Some(ranges) = parse(accept) else {
        return Format::Html;
    };
    let html = quality(&ranges, "text", "html");
    let json = quality(&ranges, "application", "json");
    match (html, json) {
        (h, j) if h > 0.0 && h >= j => Format::Html,
        (_, j) if j > 0.0 => Format::Json,
        _ => Format::Text,
    }
}

/// One media range: type, subtype and quality.
struct Range<'a> {
    kind: &'a str,
    sub: &'a str,
    q: f32,
}

/// The ranges of a header, or `None` when it is malformed.
fn parse(header: &str) -> Option<Vec<Range<'_>>> {
    let mut out = Vec::new();
    for element in header.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let mut parts = element.split(';').map(str::trim);
        let (kind, sub) = parts.next()?.split_once('/')?;
        if !is_token(kind) || !is_token(sub) || (kind == "*" && sub != "*") {
            return None;
        }
        let mut q = 1.0;
        for param in parts {
            let (name, value) = param.split_once('=')?;
            if name.trim().eq_ignore_ascii_case("q") {
                q = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))?;
            }
        }
        out.push(Range { kind, sub, q });
    }
    Some(out)
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The quality the most specific matching range gives `kind/sub` (0 when none matches).
fn quality(ranges: &[Range], kind: &str, sub: &str) -> f32 {
    let specificity = |r: &Range| match (r.kind, r.sub) {
        (k, s) if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(sub) => Some(2),
        (k, "*") if k.eq_ignore_ascii_case(kind) => Some(1),
        ("*", "*") => Some(0),
        _ => None,
    };
    ranges
        .iter()
        .filter_map(|r| specificity(r).map(|s| (s, r.q)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map_or(0.0, |(_, q)| q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_the_reference_chooses_them() {
        let cases = [
            (Some(""), Format::Text),
            (Some("*/*"), Format::Html),
            (Some("text/*"), Format::Html),
            (Some("application/xml"), Format::Text),
            (Some("text/plain"), Format::Text),
            (Some("application/json"), Format::Json),
            (Some("*/*;q=0.1, application/json"), Format::Json),
            (Some("text/plain, text/html;q=0.5"), Format::Html),
            (Some("application/json;q=0.1, text/html"), Format::Html),
            (Some("application/json, text/html"), Format::Html),
            (Some("application/json, text/html;q=0"), Format::Json),
            (Some("text/html;q=0, application/json;q=0"), Format::Text),
            (Some("garbage"), Format::Html),
            (Some("application/json;q=2"), Format::Html),
        ];
        for (accept, want) in cases {
            let accept = accept.unwrap_or_default();
            assert_eq!(format_for(accept), want, "Accept: {accept:?}");
        }
    }
}
