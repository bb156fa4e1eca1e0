//! One request as the edge reads it, once: the path percent-decoded and split, the rows of
//! the operation table it matches, the token, the caller when the fault rules need it
//! (otherwise the router authenticates it, before routing, under the lock it answers with),
//! and the response builder with the request's one id (the client's
//! `x-openstack-request-id`, or one minted here) and the error format `Accept` asks for.
//! Every answer to the request, the journal entry and the model call take that id from here.

use std::borrow::Cow;
use std::net::SocketAddr;

use warp::http::{HeaderMap, Method};

use super::app::App;
use super::mutant;
use super::out::{Out, out_for};
use crate::model::{ApiError, Identity};
use crate::operations::{self, Operation, Takes};

/// A row of the table matching the path, with the path's parameters in template order.
pub(crate) type Row<'a> = (&'static Operation, Vec<&'a str>);

/// The path percent-decoded before it is split into segments, as the reference routes: an
/// encoded `/` (`%2F`) separates segments like a plain one. Borrowed when nothing is encoded.
pub(crate) fn decoded(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    percent_encoding::percent_decode_str(path).decode_utf8_lossy()
}

/// A request as the edge reads it, the body aside. `'a` is the life of the raw request and
/// of its decoded path.
pub(crate) struct RequestContext<'a> {
    pub(crate) method: &'a Method,
    pub(crate) peer: Option<SocketAddr>,
    /// The path as sent (the journal, the fault rules and the rate limit read it).
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    /// The decoded path's segments, without the leading `/`.
    pub(crate) segments: Vec<&'a str>,
    /// The rows whose template matches the path, whatever their method.
    pub(crate) rows: Vec<Row<'a>>,
    /// `X-Auth-Token`, when it is text.
    pub(crate) token: Option<&'a str>,
    /// The request id and error format every answer to this request is built with.
    pub(crate) out: Out,
    /// Who the token stands for, once [`RequestContext::authenticate`] ran (only when a fault
    /// rule names a persona: the router reuses it).
    pub(crate) caller: Option<Result<Identity, ApiError>>,
    /// The sizes the http store found at the location URLs a patch names (read by the edge
    /// before the patch is answered: `fetch::heads`).
    pub(crate) heads: crate::model::Heads,
}

impl<'a> RequestContext<'a> {
    /// Reads the request once; `decoded` is [`decoded`] of `path`.
    pub(crate) fn new(
        method: &'a Method,
        peer: Option<SocketAddr>,
        path: &'a str,
        decoded: &'a str,
        query: &'a str,
        headers: &'a HeaderMap,
    ) -> RequestContext<'a> {
        let segments: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
        let rows = operations::matching(operations::table(), &segments);
        RequestContext {
            method,
            peer,
            path,
            query,
            headers,
            segments,
            rows,
            token: headers.get("x-auth-token").and_then(|v| v.to_str().ok()),
            heads: crate::model::Heads::new(),
            out: out_for(headers),
            caller: None,
        }
    }

    /// The row that answers this request: the matching row with its method.
    pub(crate) fn row(&self) -> Option<&Row<'a>> {
        self.rows
            .iter()
            .find(|(op, _)| op.method == self.method.as_str())
    }

    /// Whether the body is image data, streamed rather than read whole.
    pub(crate) fn carries_data(&self) -> bool {
        self.row()
            .is_some_and(|(op, _)| matches!(op.takes, Takes::Data))
    }

    /// Whether the path is the image API's (`/v2` and below): every such request needs a
    /// valid token before it is routed, as the reference's auth middleware demands.
    pub(crate) fn needs_token(&self) -> bool {
        self.segments.first() == Some(&"v2")
    }

    /// The request id, as text (empty when the answer carries none).
    pub(crate) fn request_id(&self) -> &str {
        self.out
            .request_id
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Authenticates the token once (under a rules mutant, as the mutant would).
    pub(crate) fn authenticate(&mut self, app: &App) {
        if self.caller.is_none() {
            let model = app.model.read();
            let who = mutant::authenticate(app.mutant, &model, self.token).cloned();
            self.caller = Some(who);
        }
    }

    /// The caller, when the token is valid (after [`RequestContext::authenticate`]).
    pub(crate) fn who(&self) -> Option<&Identity> {
        self.caller.as_ref().and_then(|c| c.as_ref().ok())
    }
}
