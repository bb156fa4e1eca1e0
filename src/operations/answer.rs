//! What a row's model call gives back before HTTP: no body, JSON, a schema document, an
//! upload ticket or image data; and the status it goes out with.

use serde::Serialize;
use serde_json::Value;

use super::Operation;
use crate::model::{Fetch, ImageData, Model, Outcome, Span, Upload};

/// What a successful model call gives back, before HTTP.
#[derive(Debug, PartialEq)]
pub(crate) enum Answer {
    /// No body.
    Empty,
    /// A JSON body, serialized once; `location` is a path the mock prefixes with its base URL.
    Json {
        body: Vec<u8>,
        location: Option<String>,
    },
    /// One of the fixed JSON schema documents, by name.
    Schema(&'static str),
    /// An upload set up: the caller streams the body into the blob store, then ends it with
    /// `Model::finish_upload`.
    Upload(Upload),
    /// A web-download accepted (202): the caller fetches its source into the blob store,
    /// then ends it with `Model::finish_fetch`.
    Fetch(Fetch),
    /// Image data to send: none (204), all of it (200) or a part (206).
    Data {
        data: Option<ImageData>,
        span: Option<Span>,
    },
}

impl Answer {
    pub(super) fn json<T: Serialize + ?Sized>(value: &T) -> Answer {
        Answer::Json {
            body: serde_json::to_vec(value).unwrap_or_default(),
            location: None,
        }
    }

    /// The answer once `data`, held whole, has been uploaded: the model ends an upload (the
    /// fuzzer's predictions); any other answer stays as it is.
    pub(crate) fn ended(self, m: &mut Model, data: &[u8]) -> Outcome<Answer> {
        let Answer::Upload(up) = self else {
            return Ok(self);
        };
        let mut digest = crate::model::Digester::default();
        digest.update(data);
        m.finish_upload(&up, digest.finish())?;
        Ok(Answer::Empty)
    }

    /// The status this answer goes out with on `op`: its success status, except that data
    /// answers 204 when there is none and 206 for a part.
    pub(crate) fn status(&self, op: &Operation) -> u16 {
        match self {
            Answer::Data { data: None, .. } => 204,
            Answer::Data { span: Some(_), .. } => 206,
            _ => op.success,
        }
    }

    /// The body as JSON (`Null` for none), for comparisons.
    pub(crate) fn value(&self) -> Value {
        match self {
            Answer::Json { body, .. } => serde_json::from_slice(body).unwrap_or(Value::Null),
            Answer::Empty
            | Answer::Schema(_)
            | Answer::Upload(_)
            | Answer::Fetch(_)
            | Answer::Data { .. } => Value::Null,
        }
    }
}
