//! Request `i` of a run: [`generate`] draws a kind of request (one small generator each),
//! then who sends it, `Accept`, `Content-Type`, now and then a 10 MB body, and header
//! hostility. Everything large or fixed (tokens as header values, long header values, header
//! names, the 10 MB body) is made once per run or per process and shared, not rebuilt.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};

use super::request::{Auth, Body, Ctx, Gen, LONG_LENGTHS, Req};

use super::pieces::{
    deep, hostile_query, image_body, image_segment, lit, malformed, member_body, member_segment,
    odd_method, odd_string, pick, splitmix,
};
use super::{BIG_EVERY, MAX_BIG};

/// Header names and long values, made once per process.
struct Fixed {
    /// `x-h-0` … `x-h-199`.
    many: Vec<HeaderName>,
    /// `x-wide-0` … `x-wide-23`.
    wide: Vec<HeaderName>,
    /// 4000 × `w`.
    wide_value: HeaderValue,
    /// 120,000 × `h`, sliced for one long header.
    long_h: Bytes,
    /// 5000 × `r`, sliced for a long request id.
    long_r: Bytes,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let names = |prefix: &str, n: usize| -> Vec<HeaderName> {
            (0..n)
                .map(|k| HeaderName::try_from(format!("{prefix}{k}")).expect("a token"))
                .collect()
        };
        Fixed {
            many: names("x-h-", 200),
            wide: names("x-wide-", 24),
            wide_value: HeaderValue::try_from("w".repeat(4000)).expect("ascii"),
            long_h: Bytes::from("h".repeat(120_000)),
            long_r: Bytes::from("r".repeat(5000)),
        }
    })
}

/// A header value of the first `n` bytes of `b` (ASCII letters: always valid).
fn slice_value(b: &Bytes, n: usize) -> HeaderValue {
    HeaderValue::from_maybe_shared(b.slice(..n.min(b.len()))).expect("ascii")
}

// ----- the kinds of request ---------------------------------------------------------------------

/// Method, path and body of one kind of request, before who sends it and the headers.
struct Shape {
    method: Method,
    path: String,
    body: Body,
    /// The path may name the private image (false where a kind's path cannot mean it).
    may_name_private: bool,
    creates_image: bool,
    uri: Option<http::Uri>,
}

impl Shape {
    fn new(method: Method, path: String, body: Body) -> Shape {
        Shape {
            method,
            path,
            body,
            may_name_private: true,
            creates_image: false,
            uri: None,
        }
    }

    fn elsewhere(mut self) -> Shape {
        self.may_name_private = false;
        self
    }
}

/// `POST …/members` with a member body.
fn add_member(rng: &mut Gen, ctx: &Ctx, members: &str) -> Shape {
    let body = Body::of(member_body(rng, ctx, "member"));
    Shape::new(Method::POST, members.to_string(), body)
}

/// `PUT …/members/{m}` with a status body.
fn update_member(rng: &mut Gen, ctx: &Ctx, members: &str) -> Shape {
    let path = format!("{members}/{}", member_segment(rng, ctx));
    let body = Body::of(member_body(rng, ctx, "status"));
    Shape::new(Method::PUT, path, body)
}

/// `GET …/members/{m}`.
fn show_member(rng: &mut Gen, ctx: &Ctx, members: &str) -> Shape {
    let path = format!("{members}/{}", member_segment(rng, ctx));
    Shape::new(Method::GET, path, Body::None)
}

/// `DELETE …/members/{m}`, now and then with a body.
fn delete_member(rng: &mut Gen, ctx: &Ctx, members: &str) -> Shape {
    let body = if rng.random_bool(0.2) {
        Body::of(member_body(rng, ctx, "member"))
    } else {
        Body::None
    };
    let path = format!("{members}/{}", member_segment(rng, ctx));
    Shape::new(Method::DELETE, path, body)
}

/// An odd method on a member or image path (never creating or deleting an image).
fn odd_method_on(rng: &mut Gen, ctx: &Ctx, img: &str, members: &str) -> Shape {
    let m = odd_method(rng);
    let path = match rng.random_range(0..4) {
        0 => members.to_string(),
        1 => format!("{members}/{}", member_segment(rng, ctx)),
        2 => format!("/v2/images/{img}"),
        _ => "/v2/images".to_string(),
    };
    let body = if rng.random_bool(0.4) {
        Body::of(member_body(rng, ctx, "status"))
    } else {
        Body::None
    };
    // Creating or deleting images is left to the kinds that track it.
    let m = if (m == Method::POST && path == "/v2/images") || m == Method::DELETE {
        Method::from_bytes(b"FROB").expect("token")
    } else {
        m
    };
    Shape::new(m, path, body)
}

/// `GET` or `DELETE /v2/images/{id}` (deleting only by non-owners, see [`sender`]).
fn one_image(rng: &mut Gen, img: &str) -> Shape {
    let m = if rng.random_bool(0.5) {
        Method::GET
    } else {
        Method::DELETE
    };
    Shape::new(m, format!("/v2/images/{img}"), Body::None)
}

/// `GET /v2/images` with a hostile query.
fn list_images(rng: &mut Gen) -> Shape {
    Shape::new(
        Method::GET,
        format!("/v2/images{}", hostile_query(rng)),
        Body::None,
    )
}

/// `POST /v2/images` with an odd body (the images made are deleted at the end).
fn create_image(rng: &mut Gen, ctx: &Ctx) -> Shape {
    let body = Body::of(image_body(rng, ctx));
    let mut s = Shape::new(Method::POST, "/v2/images".to_string(), body).elsewhere();
    s.creates_image = true;
    s
}

/// Long paths past the 8 KiB limit, now and then past 40 KB ([`Ctx::long`]).
fn long_path(rng: &mut Gen, ctx: &Ctx) -> Shape {
    let k = if rng.random_bool(0.05) {
        rng.random_range(LONG_LENGTHS - 4..LONG_LENGTHS)
    } else {
        rng.random_range(0..LONG_LENGTHS - 4)
    };
    let m = pick(rng, &[Method::GET, Method::PUT, Method::POST]).clone();
    let (path, uri) = &ctx.long[3 * k + rng.random_range(0..3)];
    let body = if m == Method::GET {
        Body::None
    } else {
        Body::of(member_body(rng, ctx, "member"))
    };
    let creates = m == Method::POST && path.starts_with("/v2/images?");
    let mut s = Shape::new(m, path.clone(), body).elsewhere();
    s.creates_image = creates;
    s.uri = uri.clone();
    s
}

/// Paths outside the member API, or odd spellings of it.
fn odd_path(rng: &mut Gen) -> Shape {
    let path = *pick(
        rng,
        &[
            "/",
            "/versions",
            "//v2//images",
            "/v2/images/",
            "/v2/",
            "/v2",
            "/v1/images",
            "/v2/schemas/member",
            "/v2/schemas/..%2F..%2Fetc%2Fpasswd",
            "/v2/schemas/%00",
            "/../../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/v2/images/%2F/members",
            "/v3",
            "/v3/auth/tokens",
            "/v3/projects/%00",
            "/favicon.ico",
            "/v2/images/x/members/y/z",
            "/v2/images/x/members/y/z/w/v",
        ],
    );
    let m = if rng.random_bool(0.5) {
        Method::GET
    } else {
        odd_method(rng)
    };
    let m = if m == Method::DELETE { Method::GET } else { m };
    Shape::new(m, path.to_string(), Body::None).elsewhere()
}

/// Keystone token requests with garbage bodies (none can succeed: no real password).
fn keystone_token(rng: &mut Gen, ctx: &Ctx) -> Shape {
    let b = match rng.random_range(0..4) {
        0 => malformed(rng),
        1 => deep(rng),
        2 => format!(
            "{{\"auth\": {{\"identity\": {{\"methods\": [\"password\"], \"password\": {{\"user\": {{\"name\": {}, \"password\": {}}}}}}}}}}}",
            lit(&odd_string(rng, 100)),
            lit(&odd_string(rng, 100))
        )
        .into_bytes(),
        _ => member_body(rng, ctx, "auth"),
    };
    Shape::new(Method::POST, "/v3/auth/tokens".to_string(), Body::of(b)).elsewhere()
}

/// Method, path and body of request `rng` draws.
fn shape(rng: &mut Gen, ctx: &Ctx) -> (Shape, bool) {
    let (img, img_private) = image_segment(rng, ctx);
    let members = format!("/v2/images/{img}/members");
    let s = match rng.random_range(0..100) {
        0..=15 => add_member(rng, ctx, &members),
        16..=29 => update_member(rng, ctx, &members),
        30..=40 => show_member(rng, ctx, &members),
        41..=47 => Shape::new(Method::GET, members, Body::None),
        48..=55 => delete_member(rng, ctx, &members),
        56..=63 => odd_method_on(rng, ctx, &img, &members),
        64..=67 => one_image(rng, &img),
        68..=71 => list_images(rng),
        72..=76 => create_image(rng, ctx),
        77..=82 => long_path(rng, ctx),
        83..=88 => odd_path(rng),
        _ => keystone_token(rng, ctx),
    };
    (s, img_private)
}

// ----- who sends it, and the headers -------------------------------------------------------------

/// A persona's name, most often one that reaches the member logic.
fn some_persona(rng: &mut Gen, ctx: &Ctx) -> Arc<str> {
    let want = match rng.random_range(0..100) {
        0..=39 => "owner",
        40..=64 => "member",
        65..=79 => "stranger",
        80..=89 => "admin",
        _ => "other_member",
    };
    ctx.persona(want)
        .or_else(|| ctx.personas.first())
        .map(|p| Arc::clone(&p.name))
        .unwrap_or_else(|| Arc::from(""))
}

/// Who sends a request of `shape`: the owner and the admin never delete an image here (the
/// set-up images must live).
fn sender(rng: &mut Gen, ctx: &Ctx, shape: &Shape) -> Auth {
    let mut auth = match rng.random_range(0..100) {
        0..=77 => Auth::Persona(some_persona(rng, ctx)),
        78..=82 => Auth::Anonymous,
        83..=87 => Auth::Garbage,
        88..=91 => Auth::Bearer(some_persona(rng, ctx)),
        92..=94 => Auth::Empty,
        95..=97 => Auth::Padded(some_persona(rng, ctx)),
        _ => Auth::Doubled(some_persona(rng, ctx)),
    };
    if ctx.personas.is_empty() {
        auth = Auth::Anonymous;
    }
    if shape.path.starts_with("/v2/images/")
        && shape.method == Method::DELETE
        && !shape.path.contains("/members")
        && matches!(auth.persona(), Some("owner" | "admin") | None)
        && !auth.unauthenticated()
    {
        auth = match ctx.persona("stranger").or_else(|| ctx.persona("member")) {
            Some(p) => Auth::Persona(Arc::clone(&p.name)),
            None => Auth::Anonymous,
        };
    }
    auth
}

/// The token headers for `auth`.
fn auth_headers(rng: &mut Gen, ctx: &Ctx, auth: &Auth, h: &mut Vec<(HeaderName, HeaderValue)>) {
    let x_auth = HeaderName::from_static("x-auth-token");
    let of = |p: &str| ctx.persona(p);
    let none = || HeaderValue::from_static("");
    match auth {
        Auth::Persona(p) => h.push((x_auth, of(p).map_or_else(none, |p| p.token_value.clone()))),
        Auth::Padded(p) => h.push((x_auth, of(p).map_or_else(none, |p| p.padded_value.clone()))),
        Auth::Doubled(p) => {
            h.push((
                x_auth.clone(),
                of(p).map_or_else(none, |p| p.token_value.clone()),
            ));
            h.push((x_auth, HeaderValue::from_static("not-a-token")));
        }
        Auth::Anonymous => {}
        Auth::Empty => h.push((x_auth, HeaderValue::from_static(""))),
        Auth::Garbage => {
            let v = match rng.random_range(0..4) {
                0 => HeaderValue::from_static("gAAAAA-not-a-token"),
                1 => HeaderValue::try_from("t".repeat(rng.random_range(1000..10_000)))
                    .expect("ascii"),
                2 => {
                    let v: Vec<u8> = (0..rng.random_range(1..64))
                        .map(|_| rng.random_range(0x80u8..=0xff))
                        .collect();
                    HeaderValue::from_bytes(&v).unwrap_or(HeaderValue::from_static("g"))
                }
                _ => HeaderValue::try_from(format!("owner-token{}", rng.random::<u32>()))
                    .unwrap_or(HeaderValue::from_static("g")),
            };
            h.push((x_auth, v));
        }
        Auth::Bearer(p) => h.push((
            AUTHORIZATION,
            of(p).map_or_else(none, |p| p.bearer_value.clone()),
        )),
    }
}

/// `Accept`: mostly JSON; `true` when JSON was asked for. (The odd values are noted, not
/// sent.)
fn accept(rng: &mut Gen, h: &mut Vec<(HeaderName, HeaderValue)>, note: &mut Vec<String>) -> bool {
    match rng.random_range(0..100) {
        0..=79 => {
            h.push((ACCEPT, HeaderValue::from_static("application/json")));
            return true;
        }
        80..=87 => {}
        88..=91 => {
            h.push((ACCEPT, HeaderValue::from_static("text/html")));
            note.push("accept text/html".into());
        }
        92..=95 => {
            h.push((ACCEPT, HeaderValue::from_static("text/plain")));
            note.push("accept text/plain".into());
        }
        _ => {
            let v = *pick(
                rng,
                &[
                    "application/xml",
                    "application/json;q=0, */*;q=0.1",
                    "*/*;q=abc",
                    "\u{ff}",
                ],
            );
            let v = HeaderValue::from_bytes(v.as_bytes()).unwrap_or(HeaderValue::from_static("x"));
            note.push(format!("accept {}", String::from_utf8_lossy(v.as_bytes())));
        }
    }
    false
}

/// `Content-Type` for a request with a body: mostly JSON, sometimes none or odd.
fn content_type(rng: &mut Gen, h: &mut Vec<(HeaderName, HeaderValue)>, note: &mut Vec<String>) {
    let ct = match rng.random_range(0..100) {
        0..=69 => Some("application/json"),
        70..=77 => None,
        _ => Some(*pick(
            rng,
            &[
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "application/json; charset=utf-16",
                "application/openstack-images-v2.1-json-patch",
                "application/octet-stream",
                ";;;",
                "application/json, text/html",
            ],
        )),
    };
    match ct {
        Some(ct) => {
            if ct != "application/json" {
                note.push(format!("content-type {ct}"));
            }
            h.push((CONTENT_TYPE, HeaderValue::from_static(ct)));
        }
        None => note.push("no content-type".into()),
    }
}

/// Long, many or non-ASCII headers, now and then.
fn hostile_headers(
    rng: &mut Gen,
    has_body: bool,
    h: &mut Vec<(HeaderName, HeaderValue)>,
    note: &mut Vec<String>,
) {
    let f = fixed();
    let one = || HeaderValue::from_static("1");
    let request_id = HeaderName::from_static("x-openstack-request-id");
    match rng.random_range(0..1000) {
        0..=29 => {
            let n = rng.random_range(8_000..120_000);
            h.push((
                HeaderName::from_static("x-hostile"),
                slice_value(&f.long_h, n),
            ));
            note.push(format!("one header of {n} bytes"));
        }
        30..=49 => {
            let n = rng.random_range(20..90);
            h.extend(f.many[..n].iter().map(|k| (k.clone(), one())));
            note.push(format!("{n} extra headers"));
        }
        // More fields than HTTP servers parse (hyper: 100) only without a body: the server
        // refuses the head and closes, and a client still writing a body then sees a reset
        // however well the server answers (RFC 9112, section 9.6).
        50..=54 if !has_body => {
            let n = rng.random_range(110..200);
            h.extend(f.many[..n].iter().map(|k| (k.clone(), one())));
            note.push(format!("{n} extra headers"));
        }
        55..=64 => {
            h.extend(f.wide.iter().map(|k| (k.clone(), f.wide_value.clone())));
            note.push("24 headers of 4000 bytes".into());
        }
        65..=79 => {
            let v: Vec<u8> = (0..rng.random_range(1..300))
                .map(|_| rng.random_range(0x80u8..=0xff))
                .collect();
            if let Ok(v) = HeaderValue::from_bytes(&v) {
                h.push((request_id, v));
                note.push("non-ASCII x-openstack-request-id".into());
            }
        }
        80..=89 => {
            let n = rng.random_range(100..5000);
            h.push((request_id, slice_value(&f.long_r, n)));
            note.push("long x-openstack-request-id".into());
        }
        _ => {}
    }
}

/// Request number `i` of the run.
pub(super) fn generate(ctx: &Ctx, i: usize) -> Req {
    let mut rng = Gen::seed_from_u64(splitmix(ctx.seed ^ splitmix(i as u64).rotate_left(17)));
    let rng = &mut rng;
    let (shape, img_private) = shape(rng, ctx);
    let names_private = img_private
        && shape.may_name_private
        && (shape.path.contains(&ctx.images.private) || shape.path.contains(&ctx.private_upper));
    let auth = sender(rng, ctx, &shape);
    let mut headers = Vec::with_capacity(8);
    let mut note = Vec::new();
    auth_headers(rng, ctx, &auth, &mut headers);
    let accept_json = accept(rng, &mut headers, &mut note);
    if matches!(auth, Auth::Doubled(_)) {
        note.push("two X-Auth-Token headers".into());
    }
    let Shape {
        method,
        path,
        mut body,
        creates_image,
        uri,
        ..
    } = shape;
    if !matches!(body, Body::None) {
        content_type(rng, &mut headers, &mut note);
    }
    // Now and then, a 10 MB body.
    if i % BIG_EVERY == BIG_EVERY / 2 && i / BIG_EVERY < MAX_BIG && method != Method::GET {
        body = Body::Big;
        note.push("10 MB body".into());
    }
    hostile_headers(rng, !matches!(body, Body::None), &mut headers, &mut note);
    Req {
        index: i,
        method,
        path,
        headers,
        body,
        auth,
        accept_json,
        names_private,
        creates_image,
        note,
        uri,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::HostileOptions;
    use super::super::request::{Images, Persona};
    use super::*;

    /// A context with four personas and made-up images.
    pub(in crate::fuzz::hostile) fn ctx(seed: u64) -> Ctx {
        let personas = ["owner", "member", "stranger", "admin"]
            .iter()
            .map(|n| Persona::new(n, &format!("{n}-token"), &format!("proj-{n}")))
            .collect();
        let opts = HostileOptions {
            seed,
            ..HostileOptions::default()
        };
        let images = Images {
            shared: "11111111-1111-4111-8111-111111111111".into(),
            private: "22222222-2222-4222-8222-222222222222".into(),
            public: None,
        };
        Ctx::with(&opts, "abcd1234".into(), personas, images)
    }

    #[test]
    fn a_seed_gives_the_same_requests() {
        let c = ctx(7);
        for i in [0, 1, 17, 1250, 9999] {
            let (a, b) = (generate(&c, i), generate(&c, i));
            assert_eq!(a.method, b.method);
            assert_eq!(a.path, b.path);
            assert_eq!(a.summary().body, b.summary().body);
            assert_eq!(a.auth, b.auth);
        }
        let other = ctx(8);
        let differ = (0..50).any(|i| generate(&c, i).path != generate(&other, i).path);
        assert!(differ, "another seed gives other requests");
    }

    #[test]
    fn owners_never_delete_images_and_big_bodies_are_bounded() {
        let c = ctx(7);
        for i in 0..20_000 {
            let r = generate(&c, i);
            if r.method == Method::DELETE
                && r.path.starts_with("/v2/images/")
                && !r.path.contains("/members")
            {
                assert!(!matches!(r.auth.persona(), Some("owner" | "admin")), "#{i}");
            }
            assert!(!matches!(r.body, Body::Big) || i % BIG_EVERY == BIG_EVERY / 2);
        }
        let big = (0..4 * MAX_BIG)
            .map(|k| generate(&c, k * BIG_EVERY + BIG_EVERY / 2))
            .filter(|r| matches!(r.body, Body::Big))
            .count();
        assert!(big > 0 && big <= MAX_BIG, "{big}");
    }

    #[test]
    fn summaries_are_short_and_hold_no_token() {
        let c = ctx(7);
        for i in 0..3000 {
            let s = generate(&c, i).summary().to_string();
            assert!(s.len() < 1200, "{s}");
            assert!(!s.contains("-token "), "{s}");
        }
    }

    #[test]
    fn every_kind_is_generated() {
        let c = ctx(7);
        let reqs: Vec<Req> = (0..2000).map(|i| generate(&c, i)).collect();
        let has = |f: &dyn Fn(&Req) -> bool| reqs.iter().any(f);
        assert!(has(&|r| r.creates_image));
        assert!(has(&|r| r.names_private));
        assert!(has(&|r| r.path.starts_with("/v3/auth/tokens")));
        assert!(has(&|r| r.path.len() > 40_000));
        assert!(has(&|r| r.method.as_str() == "FROB"));
        assert!(has(&|r| r.headers.len() > 100));
    }
}
