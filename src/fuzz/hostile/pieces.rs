//! The pieces requests are made of: hostile strings, member and image ids, bodies, queries
//! and methods, each drawn from a request's own generator.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use rand::Rng;
use reqwest::Method;
use serde_json::Value;

use super::request::{Ctx, Gen};

/// Characters of hostile strings: ASCII, delimiters, controls, whitespace, combining marks,
/// bidi overrides, astral planes.
#[rustfmt::skip]
const ODD: &[&str] = &[
    "a", "Z", "0", "-", "_", ".", "~", " ", "\t", "\n", "\r", "\0", "\u{7f}", "\u{1b}", "é",
    "e\u{301}", "ß", "İ", "ǅ", "中", "文", "𝔘", "😀", "👩‍👩‍👧", "\u{202e}", "\u{200b}", "\u{feff}",
    "\u{a0}", "\u{2028}", "\u{fffd}", "\u{10ffff}", "/", "\\", "%", "?", "#", "&", "=", ";",
    ":", "@", "+", "'", "\"", "<", ">", "{", "}", "|", "^", "`", "[", "]", "*", "$", "!",
];

/// Strings written into a path segment as they are: literal escapes and separators.
const RAW_SEGMENTS: &[&str] = &[
    "a/b",
    "../..",
    "..",
    ".",
    "%2F",
    "a%2Fb",
    "%2e%2e",
    "%2E%2E%2F%2E%2E",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "%",
    "%zz",
    "%C0%AF",
    "%FF",
    "%u002F",
    "%252F",
    "//",
    "",
    "x;y=1",
    "x?limit=1",
    "x#frag",
    "%20",
    "%09",
    "%0D%0AX-Injected:%201",
];

/// Strings that are odd as values.
const ODD_VALUES: &[&str] = &[
    "",
    " ",
    "  proj-member  ",
    "\t",
    "\u{a0}",
    "'; DROP TABLE image_members; --",
    "<script>alert(1)</script>",
    "${jndi:ldap://example.invalid/a}",
    "{{7*7}}",
    "%s%s%s%n",
    "null",
    "undefined",
    "0",
    "-1",
    "true",
    "ACCEPTED",
    "Accepted",
    "accepted ",
    "all",
    "\u{202e}rebmem-jorp",
    "proj-member\0",
    "\u{0}",
    "\r\nX-Injected: 1",
];

/// What `/` becomes in an encoded segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']')
    .add(b'/');

const QUERY: &AsciiSet = &SEGMENT.add(b'&').add(b'=').add(b'+');

pub(super) fn pick<'a, T>(rng: &mut Gen, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub(super) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A hostile string of up to `max` characters.
pub(super) fn odd_string(rng: &mut Gen, max: usize) -> String {
    let len = match rng.random_range(0..10) {
        0 => 0,
        1..=5 => rng.random_range(1..=16.min(max.max(1))),
        6..=8 => rng.random_range(1..=max.max(1)),
        _ => max,
    };
    let mut s = String::new();
    for _ in 0..len {
        s.push_str(pick::<&str>(rng, ODD));
    }
    s
}

/// A segment for a member id, ready for the path, and the id it means.
pub(super) fn member_segment(rng: &mut Gen, ctx: &Ctx) -> String {
    match rng.random_range(0..100) {
        0..=39 => {
            let project = &pick(rng, &ctx.personas).project;
            encode(project)
        }
        40..=54 => (*pick(rng, RAW_SEGMENTS)).to_string(),
        55..=64 => encode(pick::<&str>(rng, ODD_VALUES)),
        65..=69 => "a".repeat(rng.random_range(256..=1000)),
        70..=74 => {
            // A real project in upper case, or with a prefix.
            let project = &pick(rng, &ctx.personas).project;
            if rng.random_bool(0.5) {
                encode(&project.to_uppercase())
            } else {
                encode(&format!("../{project}"))
            }
        }
        _ => encode(&odd_string(rng, 1000)),
    }
}

pub(super) fn encode(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// An image id segment; `true` when it names the private image.
pub(super) fn image_segment(rng: &mut Gen, ctx: &Ctx) -> (String, bool) {
    let im = &ctx.images;
    match rng.random_range(0..100) {
        0..=44 => (im.shared.clone(), false),
        45..=59 => (im.private.clone(), true),
        60..=67 => (
            im.public.clone().unwrap_or_else(|| im.shared.clone()),
            false,
        ),
        68..=72 => (im.shared.to_uppercase(), false),
        73..=75 => (im.private.to_uppercase(), true),
        76..=80 => (
            uuid::Uuid::from_u128(rng.random::<u128>())
                .hyphenated()
                .to_string(),
            false,
        ),
        81..=84 => (encode(&odd_string(rng, 200)), false),
        85..=87 => ("f".repeat(rng.random_range(37..=10_000)), false),
        88..=89 => (format!("%7B{}%7D", im.shared), false),
        90..=91 => (format!("urn:uuid:{}", im.shared), false),
        92..=93 => (im.shared.replace('-', ""), false),
        94..=95 => (format!("{} ", im.shared).replace(' ', "%20"), false),
        96..=97 => ((*pick(rng, RAW_SEGMENTS)).to_string(), false),
        _ => ("00000000-0000-0000-0000-000000000000".into(), false),
    }
}

/// A JSON string literal for `s` (escapes what JSON needs).
pub(super) fn lit(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A body for `POST …/members` (`key` = `member`) or `PUT …/members/{m}` (`status`).
pub(super) fn member_body(rng: &mut Gen, ctx: &Ctx, key: &str) -> Vec<u8> {
    let value = |rng: &mut Gen| -> String {
        if key == "member" {
            match rng.random_range(0..10) {
                0..=4 => pick(rng, &ctx.personas).project.clone(),
                5..=6 => (*pick(rng, ODD_VALUES)).to_string(),
                _ => odd_string(rng, 1000),
            }
        } else {
            match rng.random_range(0..10) {
                0..=5 => (*pick(rng, &["accepted", "rejected", "pending"])).to_string(),
                6..=7 => (*pick(rng, ODD_VALUES)).to_string(),
                _ => odd_string(rng, 300),
            }
        }
    };
    match rng.random_range(0..100) {
        0..=34 => format!("{{{}: {}}}", lit(key), lit(&value(rng))).into_bytes(),
        35..=49 => malformed(rng),
        50..=54 => non_object(rng),
        55..=59 => deep(rng),
        60..=69 => {
            let wrong = pick(
                rng,
                &[
                    "1",
                    "-1",
                    "1.5",
                    "1e999",
                    "123456789012345678901234567890",
                    "null",
                    "true",
                    "[]",
                    "[\"accepted\"]",
                    "{}",
                    "{\"id\": \"proj-member\"}",
                    "\"\\ud800\"",
                    "\"\\u0000\"",
                ],
            );
            format!("{{{}: {wrong}}}", lit(key)).into_bytes()
        }
        70..=74 => format!(
            "{{{k}: {a}, {k}: {b}}}",
            k = lit(key),
            a = lit(&value(rng)),
            b = lit(&value(rng))
        )
        .into_bytes(),
        75..=79 => format!(
            "{{{}: {}, \"status\": \"accepted\", \"member\": \"proj-stranger\", \"created_at\": 0, \"extra\": {{\"a\": [1, 2, {{}}]}}}}",
            lit(key),
            lit(&value(rng))
        )
        .into_bytes(),
        80..=84 => {
            // A large string value, sometimes just past 1 MiB in all.
            let n: usize = if rng.random_bool(0.3) {
                (1 << 20) + rng.random_range(1..4096)
            } else {
                rng.random_range(10_000..200_000)
            };
            let mut b = format!("{{{}: \"", lit(key)).into_bytes();
            b.resize(n.saturating_sub(2).max(b.len()), b'x');
            b.extend_from_slice(b"\"}");
            b
        }
        85..=89 => pick(rng, &[&b""[..], b" ", b"\n\n", b"\t \r\n"]).to_vec(),
        _ => {
            // Random bytes.
            let n = rng.random_range(1..512);
            (0..n).map(|_| rng.random::<u8>()).collect()
        }
    }
}

pub(super) fn malformed(rng: &mut Gen) -> Vec<u8> {
    pick(
        rng,
        &[
            &b"{"[..],
            b"}",
            b"{\"member\":",
            b"{\"member\": \"proj-member\"",
            b"{\"member\": \"proj-member\"} trailing",
            b"{\"member\": \"proj-member\",}",
            b"{'member': 'proj-member'}",
            b"{member: \"proj-member\"}",
            b"/* comment */ {\"member\": \"proj-member\"}",
            b"\xef\xbb\xbf{\"member\": \"proj-member\"}",
            b"\xff\xfe{\x00}\x00",
            b"{\"member\": \"\xc3\x28\"}",
            b"{\"status\": \"\xed\xa0\x80\"}",
            b"{\"member\": NaN}",
            b"{\"status\": Infinity}",
            b"nul",
            b"\x00",
            b"{\"a\":1}{\"b\":2}",
            b"member=proj-member",
            b"<member>proj-member</member>",
            b"\"unterminated",
            b"{\"member\": \"\\x41\"}",
            b"{\"member\": \"\\u12\"}",
        ],
    )
    .to_vec()
}

pub(super) fn non_object(rng: &mut Gen) -> Vec<u8> {
    pick(
        rng,
        &[
            &b"[]"[..],
            b"[{\"member\": \"proj-member\"}]",
            b"\"proj-member\"",
            b"42",
            b"-0",
            b"null",
            b"true",
            b"\"\"",
        ],
    )
    .to_vec()
}

/// Deep nesting: unbalanced `[`/`{"a":`, or balanced past any sane depth.
pub(super) fn deep(rng: &mut Gen) -> Vec<u8> {
    let n = *pick(rng, &[129usize, 1000, 10_000, 100_000]);
    match rng.random_range(0..3) {
        0 => "[".repeat(n).into_bytes(),
        1 => "{\"a\":".repeat(n).into_bytes(),
        _ => format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes(),
    }
}

/// A body for `POST /v2/images`: never a plain valid request except now and then (the image
/// it creates is named `sharecheck-<run id>-hostile-…` and deleted at the end).
pub(super) fn image_body(rng: &mut Gen, ctx: &Ctx) -> Vec<u8> {
    let name = lit(&format!("sharecheck-{}-hostile-created", ctx.run_id));
    match rng.random_range(0..12) {
        0 => malformed(rng),
        1 => non_object(rng),
        2 => deep(rng),
        3 => b"{\"name\": 5}".to_vec(),
        4 => format!(
            "{{\"name\": {name}, \"visibility\": {}}}",
            lit(&odd_string(rng, 40))
        )
        .into_bytes(),
        5 => format!("{{\"name\": {name}, \"min_ram\": -1}}").into_bytes(),
        6 => format!(
            "{{\"name\": {name}, \"id\": {}}}",
            lit(&odd_string(rng, 60))
        )
        .into_bytes(),
        7 => format!("{{\"name\": {name}, \"tags\": \"x\", \"protected\": \"yes\"}}").into_bytes(),
        8 => format!(
            "{{\"name\": {}}}",
            lit(&format!(
                "sharecheck-{}-hostile-{}",
                ctx.run_id,
                "n".repeat(300)
            ))
        )
        .into_bytes(),
        9 => format!("{{\"name\": {name}, \"x_odd\": {{\"deep\": [1]}}}}").into_bytes(),
        10 => format!("{{\"name\": {name}, \"status\": \"active\"}}").into_bytes(),
        _ => format!("{{\"name\": {name}, \"visibility\": \"private\"}}").into_bytes(),
    }
}

pub(super) fn hostile_query(rng: &mut Gen) -> String {
    let value = |rng: &mut Gen| utf8_percent_encode(&odd_string(rng, 300), QUERY).to_string();
    match rng.random_range(0..14) {
        0 => "?limit=0".into(),
        1 => "?limit=-1".into(),
        2 => "?limit=abc".into(),
        3 => "?limit=99999999999999999999999".into(),
        4 => format!("?marker={}", value(rng)),
        5 => format!("?member_status={}", value(rng)),
        6 => format!("?visibility={}", value(rng)),
        7 => format!("?name={}", value(rng)),
        8 => "?limit=1&limit=2&marker=&marker=x".into(),
        9 => "?%zz=%zz&&&=&".into(),
        10 => "?member_status=all&visibility=shared&limit=1".into(),
        11 => format!("?{}", "a=1&".repeat(rng.random_range(100..2000))),
        12 => "?sort_key=../../etc&sort_dir=sideways".into(),
        _ => String::new(),
    }
}

/// Odd methods, and sometimes the one an operation uses.
pub(super) fn odd_method(rng: &mut Gen) -> Method {
    let name = pick(
        rng,
        &[
            "PATCH", "OPTIONS", "HEAD", "TRACE", "FROB", "PROPFIND", "M-SEARCH", "get", "Delete",
            "PUT", "POST", "DELETE", "GET",
        ],
    );
    if rng.random_bool(0.03) {
        let long = "X".repeat(rng.random_range(100..2000));
        return Method::from_bytes(long.as_bytes()).unwrap_or(Method::GET);
    }
    Method::from_bytes(name.as_bytes()).unwrap_or(Method::GET)
}
