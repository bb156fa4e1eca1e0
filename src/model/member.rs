//! Memberships: the member object, its status, and the request bodies that change it.

use serde::Serialize;
use serde_json::Value;

use super::{ApiError, Result};

/// Where a member stands on a shared image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// Shared, not yet answered by the member (the state after every add).
    Pending,
    /// The member took the image: it appears in the member's image list.
    Accepted,
    /// The member declined the image.
    Rejected,
}

impl MemberStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [MemberStatus; 3] = [
        MemberStatus::Pending,
        MemberStatus::Accepted,
        MemberStatus::Rejected,
    ];

    /// Parses the wire value; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(MemberStatus::Pending),
            "accepted" => Some(MemberStatus::Accepted),
            "rejected" => Some(MemberStatus::Rejected),
            _ => None,
        }
    }

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Pending => "pending",
            MemberStatus::Accepted => "accepted",
            MemberStatus::Rejected => "rejected",
        }
    }
}

/// One membership: a project (`member_id`) that an image is shared with. Serializes to the
/// reference's member object, `schema` included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member project's id.
    pub member_id: String,
    /// The shared image.
    pub image_id: String,
    /// Where the member stands.
    pub status: MemberStatus,
    /// When the membership was created (`YYYY-MM-DDTHH:MM:SSZ`).
    pub created_at: String,
    /// When its status last changed.
    pub updated_at: String,
}

impl Serialize for Member {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Member", 6)?;
        st.serialize_field("created_at", &self.created_at)?;
        st.serialize_field("image_id", &self.image_id)?;
        st.serialize_field("member_id", &self.member_id)?;
        st.serialize_field("schema", "/v2/schemas/member")?;
        st.serialize_field("status", &self.status)?;
        st.serialize_field("updated_at", &self.updated_at)?;
        st.end()
    }
}

/// Parses a JSON object body; anything else is 400.
pub(crate) fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("Body expected in request."));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("Body must be a JSON object.")),
        Err(_) => Err(ApiError::bad_request("Malformed JSON in request body.")),
    }
}

/// 400 for a request that has a body where the operation takes none.
pub(crate) fn no_body(body: &[u8]) -> Result<()> {
    if body.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "A body is not expected with this request.",
        ))
    }
}

/// The body of an add: `{"member": "<non-empty project id>"}`.
pub(crate) fn parse_add_body(body: &[u8]) -> Result<String> {
    let map = json_object(body)?;
    match map.get("member") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(ApiError::bad_request("Member to be added not specified"))
        }
        Some(_) => Err(ApiError::bad_request("Member must be a string.")),
    }
}

/// The body of an update: `{"status": ...}`. Only presence is checked here; the value is
/// validated after the policy check (an owner with a bad value gets 403, not 400).
pub(crate) fn parse_update_body(body: &[u8]) -> Result<String> {
    let map = json_object(body)?;
    match map.get("status") {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(ApiError::bad_request("Status not specified")),
    }
}

/// A status value as the update body gave it (400 for anything but the three statuses).
pub(crate) fn parse_status(raw: &str) -> Result<MemberStatus> {
    MemberStatus::parse(raw)
        .ok_or_else(|| ApiError::bad_request(format!("Invalid status value: {raw}")))
}
