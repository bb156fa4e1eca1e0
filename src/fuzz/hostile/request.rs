//! What a run generates from ([`Ctx`]: target, personas, set-up images) and what it
//! generates ([`Req`]: a request, who sends it, what it is known to mean), and how a request
//! is shown in a report.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderName, HeaderValue};

use super::{BIG_BODY, HostileOptions, RequestSummary};
use crate::suite::Target;

/// Each request's own generator (cheap to seed: one per request).
pub(super) type Gen = rand::rngs::SmallRng;

/// The real images requests aim at (random UUIDs when set-up could not create them).
pub(super) struct Images {
    pub shared: String,
    pub private: String,
    pub public: Option<String>,
}

/// A persona as requests use it, its header values made once.
pub(super) struct Persona {
    pub name: Arc<str>,
    pub project: String,
    pub token_value: HeaderValue,
    pub padded_value: HeaderValue,
    pub bearer_value: HeaderValue,
}

/// What every request of a run is generated from.
pub(super) struct Ctx {
    pub seed: u64,
    pub run_id: String,
    pub personas: Vec<Persona>,
    pub images: Images,
    /// The private image's id in upper case (paths naming it are recognised by either).
    pub private_upper: String,
    pub faults_injected: bool,
    /// The long request targets, parsed once: for each of
    /// [`LONG_LENGTHS`], `…/members/a…a` of the shared image, `/v2/images/a…a/members` and
    /// `/v2/images?name=a…a`.
    pub long: Vec<(String, Option<http::Uri>)>,
}

/// How many long `a…a` lengths there are: `LONG_LENGTHS - 4` from 4,000 to ~30,000 bytes,
/// then 4 from 40,000 to ~60,000 (a client cannot send a target past 64 KiB).
pub(super) const LONG_LENGTHS: usize = 24;

/// The long targets of [`Ctx::long`].
fn long_targets(shared: &str) -> Vec<(String, Option<http::Uri>)> {
    let mut v = Vec::with_capacity(3 * LONG_LENGTHS);
    for k in 0..LONG_LENGTHS {
        let n = if k < LONG_LENGTHS - 4 {
            4_000 + k * 1_300
        } else {
            40_000 + (k + 4 - LONG_LENGTHS) * 6_000
        };
        let tail = "a".repeat(n);
        for path in [
            format!("/v2/images/{shared}/members/{tail}"),
            format!("/v2/images/{tail}/members"),
            format!("/v2/images?name={tail}"),
        ] {
            let uri = http::Uri::try_from(path.as_str()).ok();
            v.push((path, uri));
        }
    }
    v
}

impl Ctx {
    pub fn new(target: &Target, opts: &HostileOptions, run_id: String, images: Images) -> Arc<Ctx> {
        let personas = target
            .personas
            .iter()
            .map(|(n, p)| Persona::new(n, &p.token, &p.project_id))
            .collect();
        Arc::new(Ctx::with(opts, run_id, personas, images))
    }

    pub fn with(
        opts: &HostileOptions,
        run_id: String,
        personas: Vec<Persona>,
        images: Images,
    ) -> Ctx {
        Ctx {
            long: long_targets(&images.shared),
            seed: opts.seed,
            run_id,
            personas,
            private_upper: images.private.to_uppercase(),
            images,
            faults_injected: opts.faults_injected,
        }
    }

    pub fn persona(&self, name: &str) -> Option<&Persona> {
        self.personas.iter().find(|p| &*p.name == name)
    }
}

impl Persona {
    pub fn new(name: &str, token: &str, project: &str) -> Persona {
        let hv = |s: String| HeaderValue::try_from(s).unwrap_or(HeaderValue::from_static("x"));
        Persona {
            name: Arc::from(name),
            project: project.to_string(),
            token_value: hv(token.to_string()),
            padded_value: hv(format!("  {token}  ")),
            bearer_value: hv(format!("Bearer {token}")),
        }
    }
}

/// How a request authenticates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Auth {
    /// `X-Auth-Token` of a persona.
    Persona(Arc<str>),
    /// The persona's token with spaces around it.
    Padded(Arc<str>),
    /// The persona's token and a garbage one, two `X-Auth-Token` headers.
    Doubled(Arc<str>),
    /// No token.
    Anonymous,
    /// `X-Auth-Token:` empty.
    Empty,
    /// A token nobody issued.
    Garbage,
    /// The persona's token as `Authorization: Bearer`, no `X-Auth-Token`.
    Bearer(Arc<str>),
}

impl Auth {
    pub fn label(&self) -> String {
        match self {
            Auth::Persona(p) => p.to_string(),
            Auth::Padded(p) => format!("padded:{p}"),
            Auth::Doubled(p) => format!("doubled:{p}"),
            Auth::Anonymous => "anonymous".into(),
            Auth::Empty => "empty-token".into(),
            Auth::Garbage => "garbage-token".into(),
            Auth::Bearer(p) => format!("bearer:{p}"),
        }
    }

    /// Certainly without a valid `X-Auth-Token`.
    pub fn unauthenticated(&self) -> bool {
        matches!(
            self,
            Auth::Anonymous | Auth::Empty | Auth::Garbage | Auth::Bearer(_)
        )
    }

    /// The persona whose identity the request may carry.
    pub fn persona(&self) -> Option<&str> {
        match self {
            Auth::Persona(p) | Auth::Padded(p) | Auth::Doubled(p) => Some(p),
            _ => None,
        }
    }
}

pub(super) enum Body {
    None,
    Bytes(Bytes),
    /// The shared 10 MB body.
    Big,
}

impl Body {
    pub fn of(b: Vec<u8>) -> Body {
        Body::Bytes(Bytes::from(b))
    }
}

/// One generated request.
pub(super) struct Req {
    pub index: usize,
    pub method: Method,
    /// Path and query, after the endpoint.
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Body,
    pub auth: Auth,
    pub accept_json: bool,
    /// The path names the private set-up image.
    pub names_private: bool,
    /// `POST /v2/images`.
    pub creates_image: bool,
    pub note: Vec<String>,
    /// The request target, parsed already (long ones).
    pub uri: Option<http::Uri>,
}

impl Req {
    /// `GET /v2/images` as `persona` (anonymous when `None`), `Accept: application/json`.
    pub fn plain_get(ctx: &Ctx, persona: Option<&str>) -> Req {
        Req::plain(ctx, persona, Method::GET, "/v2/images".into())
    }

    /// `DELETE /v2/images/{id}` as `persona`.
    pub fn delete_image(ctx: &Ctx, persona: &str, id: &str) -> Req {
        Req::plain(
            ctx,
            Some(persona),
            Method::DELETE,
            format!("/v2/images/{id}"),
        )
    }

    /// A well-formed request without a body, as `persona` (anonymous when `None`).
    fn plain(ctx: &Ctx, persona: Option<&str>, method: Method, path: String) -> Req {
        let mut headers = vec![(ACCEPT, HeaderValue::from_static("application/json"))];
        let p = persona.and_then(|p| ctx.persona(p));
        if let Some(p) = p {
            headers.push((
                HeaderName::from_static("x-auth-token"),
                p.token_value.clone(),
            ));
        }
        Req {
            index: 0,
            method,
            path,
            headers,
            body: Body::None,
            auth: p.map_or(Auth::Anonymous, |p| Auth::Persona(p.name.clone())),
            accept_json: true,
            names_private: false,
            creates_image: false,
            note: Vec::new(),
            uri: None,
        }
    }

    /// What was sent, shortened, without tokens.
    pub fn summary(&self) -> RequestSummary {
        let body = match &self.body {
            Body::None => "(none)".to_string(),
            Body::Big => format!("{} ({} bytes)", excerpt(&big_body(), 60), BIG_BODY),
            Body::Bytes(b) if b.is_empty() => "(empty)".to_string(),
            Body::Bytes(b) => format!("{} ({} bytes)", excerpt(b, 80), b.len()),
        };
        RequestSummary {
            index: self.index,
            method: shorten(self.method.as_str(), 40),
            path: shorten(&self.path, 160),
            persona: self.auth.label(),
            body,
            note: self.note.join(", "),
        }
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…({} bytes)", &s[..end], s.len())
}

/// The start of `b` as an escaped, quoted string.
pub(super) fn excerpt(b: &[u8], max: usize) -> String {
    let cut = &b[..b.len().min(max)];
    let text = String::from_utf8_lossy(cut);
    let mut s: String = text.escape_debug().collect();
    if b.len() > max {
        s.push('…');
    }
    format!("\"{s}\"")
}

/// The 10 MB body, made once per process.
pub(super) fn big_body() -> Bytes {
    static BIG: OnceLock<Bytes> = OnceLock::new();
    BIG.get_or_init(|| {
        let mut b = b"{\"member\": \"".to_vec();
        b.resize(BIG_BODY - 2, b'a');
        b.extend_from_slice(b"\"}");
        Bytes::from(b)
    })
    .clone()
}
