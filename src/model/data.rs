//! Image data: the status an upload moves an image through (`queued → saving → active`), the
//! digests the reference records (size, MD5 `checksum`, SHA-512 `os_hash_value`), the format
//! check it makes of the bytes, and the byte range of a download. The bytes themselves live in
//! a blob store outside the model; an image only names its blob.

use md5::{Digest as _, Md5};

use super::{ApiError, ErrorKind, Identity, Model, Result};

/// The lifecycle status of an image, as far as uploads take it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageStatus {
    /// No data yet.
    Queued,
    /// An upload is under way.
    Saving,
    /// Data uploaded.
    Active,
    /// Data uploaded, but only admins may download it.
    Deactivated,
    /// Data staged, waiting for an import (`PUT …/stage`, then `POST …/import`).
    Uploading,
    /// A web-download under way: the data is being fetched (no data yet).
    Importing,
}

impl ImageStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Queued => "queued",
            ImageStatus::Saving => "saving",
            ImageStatus::Active => "active",
            ImageStatus::Deactivated => "deactivated",
            ImageStatus::Uploading => "uploading",
            ImageStatus::Importing => "importing",
        }
    }
}

/// What an active image records of its data, and the blob that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageData {
    /// Bytes.
    pub size: u64,
    /// The size the format check found inside the data, if it found one.
    pub virtual_size: Option<u64>,
    /// MD5, lower-case hex.
    pub checksum: String,
    /// SHA-512, lower-case hex (`os_hash_algo` is `sha512`).
    pub os_hash_value: String,
    /// The blob store's key for the bytes.
    pub blob: u64,
    /// The stores holding the data, in the order it reached them (empty while it is only
    /// staged, and without stores configured).
    pub stores: Vec<String>,
}

/// The hash algorithm the reference names in `os_hash_algo`.
pub const HASH_ALGO: &str = "sha512";

/// Digests of a stream of bytes, computed as they pass, and the first bytes, for the format
/// check.
pub struct Digester {
    md5: Md5,
    /// SHA-512 from `ring` (its assembly is several times faster here than portable code).
    sha: ring::digest::Context,
    size: u64,
    head: Vec<u8>,
}

/// How much of the start of the data the format check reads (an ISO's descriptor sits at
/// 32 KiB).
const HEAD_BYTES: usize = 0x8100;

impl Default for Digester {
    fn default() -> Self {
        Digester {
            md5: Md5::new(),
            sha: ring::digest::Context::new(&ring::digest::SHA512),
            size: 0,
            head: Vec::new(),
        }
    }
}

/// From this many bytes on, one update computes the two digests on two threads.
pub const PARALLEL_BYTES: usize = 256 << 10;

impl Digester {
    /// Takes in the next bytes; a large piece has its two digests computed side by side.
    pub fn update(&mut self, bytes: &[u8]) {
        if bytes.len() >= PARALLEL_BYTES {
            let (md5, sha) = (&mut self.md5, &mut self.sha);
            std::thread::scope(|s| {
                s.spawn(|| md5.update(bytes));
                sha.update(bytes);
            });
        } else {
            self.md5.update(bytes);
            self.sha.update(bytes);
        }
        self.size += bytes.len() as u64;
        if self.head.len() < HEAD_BYTES {
            let room = HEAD_BYTES - self.head.len();
            self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    /// The digests of everything taken in.
    pub fn finish(self) -> Received {
        Received {
            size: self.size,
            checksum: hex::encode(self.md5.finalize()),
            os_hash_value: hex::encode(self.sha.finish()),
            format: super::format::detect(&self.head),
        }
    }
}

/// What an upload delivered, digested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// Bytes.
    pub size: u64,
    /// MD5, hex.
    pub checksum: String,
    /// SHA-512, hex.
    pub os_hash_value: String,
    /// The format the first bytes show, with the virtual size it states if known.
    pub format: super::format::Detected,
}

/// An upload under way: the model's side of it. The blob `blob` takes the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// The image.
    pub image_id: String,
    /// The blob key the data goes to.
    pub blob: u64,
    /// The size the client declared (`x-openstack-image-size`, else `Content-Length`).
    pub declared: Option<u64>,
    /// Staged for an import (`PUT …/stage`) rather than uploaded: the image ends `uploading`.
    pub staging: bool,
    /// The store the data goes to (`None`: staged, or no stores configured).
    pub store: Option<String>,
    /// The uploader's project: `user_storage_quota` counts the data of its images.
    pub project: String,
}

impl Upload {
    /// The image's status while the bytes come in.
    pub(crate) fn during(&self) -> ImageStatus {
        if self.staging {
            ImageStatus::Uploading
        } else {
            ImageStatus::Saving
        }
    }
}

/// What a download sends: the image's data, or none (204).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    /// The blob and its size, when the image has data.
    pub data: Option<ImageData>,
}

/// A part of the data to send (206).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub offset: u64,
    /// How many bytes.
    pub len: u64,
    /// The `Content-Range` value.
    pub content_range: String,
}

fn gone(image_id: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Gone,
        format!("Image {image_id} was deleted while its data was uploaded."),
    )
}

/// The declared size of an upload: `x-openstack-image-size`, else `Content-Length`; a value
/// that is not a whole number is a bad request.
pub fn declared_size(
    size_header: Option<&str>,
    content_length: Option<u64>,
) -> Result<Option<u64>> {
    match size_header {
        Some(v) => v.trim().parse().map(Some).map_err(|_| {
            ApiError::bad_request("The image size in the request headers is not a number.")
        }),
        None => Ok(content_length.filter(|n| *n > 0)),
    }
}

/// Uploads accept only `application/octet-stream` (parameters aside); anything else, or no
/// type, is 415.
pub fn check_data_type(content_type: Option<&str>) -> Result<()> {
    let essence = content_type
        .and_then(|t| t.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    if essence.eq_ignore_ascii_case("application/octet-stream") {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorKind::UnsupportedMediaType,
        format!(
            "The request media type {} is not supported here: send image data as application/octet-stream.",
            if essence.is_empty() {
                "(none)"
            } else {
                essence
            }
        ),
    ))
}

impl Model {
    /// `PUT /v2/images/{image_id}/file`, before the bytes: the image must be visible (404),
    /// writable by `who` (403), `queued` (409) and have both formats set (400); it becomes
    /// `saving` and a blob key is set aside.
    pub fn begin_upload(
        &mut self,
        who: &Identity,
        image_id: &str,
        declared: Option<u64>,
    ) -> Result<Upload> {
        let image = self.visible_image(who, image_id)?;
        if !self.may_write(who, image) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete upload_image action.",
            ));
        }
        if image.status != ImageStatus::Queued {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!(
                    "Image status transition from {} to saving is not allowed",
                    image.status.as_str()
                ),
            ));
        }
        let missing: Vec<&str> = [
            ("disk_format", image.disk_format.is_none()),
            ("container_format", image.container_format.is_none()),
        ]
        .into_iter()
        .filter_map(|(k, absent)| absent.then_some(k))
        .collect();
        if !missing.is_empty() {
            let noun = if missing.len() == 1 {
                "Property"
            } else {
                "Properties"
            };
            return Err(ApiError::bad_request(format!(
                "{noun} {} must be set prior to saving data.",
                missing.join(", ")
            )));
        }
        let id = image.id.clone();
        let blob = self.state.new_blob();
        self.set_status(&id, ImageStatus::Saving);
        Ok(Upload {
            image_id: id,
            blob,
            declared,
            staging: false,
            store: self.rules.deployment.default_store.clone(),
            project: who.project_id.clone(),
        })
    }

    /// The upload's bytes are all in: the image becomes `active` (`uploading` when staged)
    /// with its digests, unless it was deleted meanwhile (410), the size differs from the
    /// declared one (400) or the format check refuses the data (415); a refused upload puts
    /// the image back to `queued`.
    pub fn finish_upload(&mut self, up: &Upload, got: Received) -> Result<()> {
        let image = match self.state.image(&up.image_id) {
            Some(i) if i.status == up.during() && i.data.is_none() => i,
            _ => return Err(gone(&up.image_id)),
        };
        let read_only = up
            .store
            .as_deref()
            .and_then(|s| self.rules.deployment.store(s))
            .is_some_and(|s| s.read_only);
        if read_only {
            self.abort_upload(up);
            return Err(ApiError::new(
                ErrorKind::Gone,
                "Error in store configuration. Adding images to store is disabled.",
            ));
        }
        if let Err(e) = self.check_size_limits(up, got.size) {
            self.abort_upload(up);
            return Err(e);
        }
        let verdict = match up.declared {
            Some(n) if n != got.size => Err(ApiError::bad_request(format!(
                "Size mismatch: expected {n} bytes, got {} bytes",
                got.size
            ))),
            _ => super::format::judge(
                image.disk_format.as_deref(),
                image.container_format.as_deref(),
                &got,
                self.rules.deployment.require_image_format_match,
            ),
        };
        let virtual_size = match verdict {
            Ok(v) => v,
            Err(e) => {
                self.abort_upload(up);
                return Err(e);
            }
        };
        let data = ImageData {
            size: got.size,
            virtual_size,
            checksum: got.checksum,
            os_hash_value: got.os_hash_value,
            blob: up.blob,
            // Staged data is in no store until it is imported.
            stores: up.store.iter().cloned().collect(),
        };
        if let Some(img) = self.state.image_mut(&up.image_id) {
            img.data = Some(data);
            img.status = if up.staging {
                ImageStatus::Uploading
            } else {
                ImageStatus::Active
            };
            img.updated_at = (self.clock)();
        }
        self.state.touch(&up.image_id);
        Ok(())
    }

    /// The deployment's limits on an upload of `size` bytes (413): `image_size_cap` for any
    /// data, staged too, and, for an upload, `user_storage_quota` (0: none) against what the
    /// images of the uploader's project (as the reference counts: the caller's, not the
    /// image owner's) that have data already hold.
    fn check_size_limits(&self, up: &Upload, size: u64) -> Result<()> {
        let d = &self.rules.deployment;
        if size > d.image_size_cap {
            return Err(ApiError::new(
                ErrorKind::OverLimit,
                "The incoming image is too large: The provided image is too large.",
            ));
        }
        if up.staging || d.user_storage_quota == 0 {
            return Ok(());
        }
        let used: u64 = self
            .state
            .images()
            .filter(|i| i.owner == up.project && i.id != up.image_id)
            .filter(|i| matches!(i.status, ImageStatus::Active | ImageStatus::Deactivated))
            .filter_map(|i| i.data.as_ref().map(|data| data.size))
            .sum();
        let remaining = d.user_storage_quota.saturating_sub(used);
        if size > remaining {
            return Err(ApiError::new(
                ErrorKind::OverLimit,
                format!(
                    "Image exceeds the storage quota: The size of the data {size} will exceed the limit. {remaining} bytes remaining."
                ),
            ));
        }
        Ok(())
    }

    /// The store an upload names in `X-Image-Meta-Store` (else the default store), checked
    /// before the image is looked up, as the reference does: one that is not configured is
    /// 400. Without stores configured the header is not looked at.
    pub fn upload_store(&self, named: Option<&str>) -> Result<Option<String>> {
        let d = &self.rules.deployment;
        if d.stores.is_empty() {
            return Ok(None);
        }
        match named {
            None => Ok(d.default_store.clone()),
            Some(id) if d.store(id).is_some() => Ok(Some(id.to_string())),
            Some(id) => Err(ApiError::bad_request(format!(
                "Store for identifier {id} not found"
            ))),
        }
    }

    /// The upload broke off: the image goes back to `queued` if its bytes were still coming.
    pub fn abort_upload(&mut self, up: &Upload) {
        if self
            .state
            .image(&up.image_id)
            .is_some_and(|i| i.status == up.during() && i.data.is_none())
        {
            self.set_status(&up.image_id, ImageStatus::Queued);
        }
    }

    /// `GET /v2/images/{image_id}/file`: the image's data if `who` may see the image (404
    /// otherwise) and holds the `member` role (a reader gets 403, as the reference's policy
    /// says); an image without data gives none (204).
    pub fn download(&self, who: &Identity, image_id: &str) -> Result<Download> {
        let image = self.visible_image(who, image_id)?;
        if image.status == ImageStatus::Deactivated && !who.is_admin() {
            return Err(ApiError::forbidden(
                "The image is deactivated: only an admin may download its data.",
            ));
        }
        if !who.can_write() {
            return Err(ApiError::forbidden(
                "You are not authorized to complete download_image action.",
            ));
        }
        Ok(Download {
            data: image
                .data
                .clone()
                .filter(|_| image.status != ImageStatus::Uploading),
        })
    }

    /// `POST /v2/images/{image_id}/actions/deactivate` (`active: false`) and `…/reactivate`
    /// (`active: true`): no body (400), a visible image (404) the caller may change (403)
    /// that has data (403 otherwise); doing it twice is no error.
    pub fn set_activation(
        &mut self,
        who: &Identity,
        image_id: &str,
        body: &[u8],
        active: bool,
    ) -> Result<()> {
        super::member::no_body(body)?;
        let image = self.visible_image(who, image_id)?;
        let action = if active { "reactivate" } else { "deactivate" };
        if !self.may_write(who, image) {
            return Err(ApiError::forbidden(format!(
                "You are not authorized to complete {action} action."
            )));
        }
        if !matches!(image.status, ImageStatus::Active | ImageStatus::Deactivated) {
            return Err(ApiError::forbidden(format!(
                "Not allowed to {action} image in status '{}'",
                image.status.as_str()
            )));
        }
        let id = image.id.clone();
        let status = if active {
            ImageStatus::Active
        } else {
            ImageStatus::Deactivated
        };
        self.set_status(&id, status);
        Ok(())
    }

    pub(super) fn set_status(&mut self, id: &str, status: ImageStatus) {
        let now = (self.clock)();
        if let Some(img) = self.state.image_mut(id) {
            img.status = status;
            img.updated_at = now;
        }
        self.state.touch(id);
    }
}

/// The part of `size` bytes a download asks for: `Range` (`bytes=a-b`, `bytes=a-`,
/// `bytes=-n`), else the older `Content-Range` (`bytes a-b/*`); `None` for the whole. As the
/// reference answers: several ranges are 400, a malformed one or one starting past the end is
/// 416, an end past the end is cut at the end, and a suffix longer than the data is all of it.
pub fn requested_span(
    range: Option<&str>,
    content_range: Option<&str>,
    size: u64,
) -> Result<Option<Span>> {
    let unsatisfiable = |why: &str| {
        ApiError::new(
            ErrorKind::RangeNotSatisfiable,
            format!("The Range requested is not available: {why}."),
        )
    };
    let span = |offset: u64, end: u64| Span {
        offset,
        len: end - offset,
        content_range: format!("bytes {offset}-{}/{size}", end.saturating_sub(1)),
    };
    if let Some(r) = range {
        if r.contains(',') {
            return Err(ApiError::bad_request(
                "Requests with multiple ranges are not supported; ask for one range at a time.",
            ));
        }
        let (start, end) =
            parse_bytes_range(r).ok_or_else(|| unsatisfiable("invalid Range header"))?;
        return Ok(Some(match (start, end) {
            (Start::From(a), _) if a >= size => {
                return Err(unsatisfiable("the start is past the end of the data"));
            }
            (Start::From(a), Some(b)) => span(a, (b + 1).min(size)),
            (Start::From(a), None) => span(a, size),
            // `bytes=-0` and a suffix as long as the data or longer give all of it.
            (Start::Last(n), _) if n == 0 || n >= size => span(0, size),
            (Start::Last(n), _) => span(size - n, size),
        }));
    }
    if let Some(cr) = content_range {
        let (a, b) =
            parse_content_range(cr).ok_or_else(|| unsatisfiable("invalid Content-Range header"))?;
        if b + 1 > size || a >= size {
            return Err(unsatisfiable("the range is past the end of the data"));
        }
        return Ok(Some(span(a, b + 1)));
    }
    Ok(None)
}

enum Start {
    From(u64),
    Last(u64),
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` (`a ≤ b`).
fn parse_bytes_range(r: &str) -> Option<(Start, Option<u64>)> {
    let spec = r.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let num = |s: &str| {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    if a.is_empty() {
        return Some((Start::Last(num(b)?), None));
    }
    let a = num(a)?;
    if b.is_empty() {
        return Some((Start::From(a), None));
    }
    let b = num(b)?;
    (a <= b).then_some((Start::From(a), Some(b)))
}

/// `bytes a-b/total` or `bytes a-b/*` (`a ≤ b`).
fn parse_content_range(cr: &str) -> Option<(u64, u64)> {
    let spec = cr.trim().strip_prefix("bytes ")?;
    let (range, _total) = spec.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO_MD5: &str = "5eb63bbbe01eeed093cb22bb8f5acdc3";

    #[test]
    fn digests_are_the_same_whole_small_or_side_by_side() {
        let data: Vec<u8> = (0..PARALLEL_BYTES * 3 + 17)
            .map(|i| (i % 253) as u8)
            .collect();
        let mut whole = Digester::default();
        whole.update(&data);
        let mut pieces = Digester::default();
        for c in data.chunks(1000) {
            pieces.update(c);
        }
        let (a, b) = (whole.finish(), pieces.finish());
        assert_eq!(a, b);
        assert_eq!(a.size, data.len() as u64);
        let mut hello = Digester::default();
        hello.update(b"hello ");
        hello.update(b"world");
        let h = hello.finish();
        assert_eq!((h.size, h.checksum.as_str()), (11, HELLO_MD5));
        assert!(
            h.os_hash_value
                .starts_with("309ecc489c12d6eb4cc40f50c902f2b4")
        );
        assert_eq!(h.format.name, "raw");
    }

    fn span(
        range: Option<&str>,
        content_range: Option<&str>,
    ) -> Result<Option<(u64, u64, String)>> {
        requested_span(range, content_range, 11)
            .map(|s| s.map(|s| (s.offset, s.len, s.content_range)))
    }

    #[test]
    fn ranges_are_read_as_the_reference_reads_them() {
        let ok = |r: &str| span(Some(r), None).unwrap().unwrap();
        assert_eq!(ok("bytes=0-3"), (0, 4, "bytes 0-3/11".into()));
        assert_eq!(ok("bytes=3-"), (3, 8, "bytes 3-10/11".into()));
        assert_eq!(ok("bytes=-4"), (7, 4, "bytes 7-10/11".into()));
        assert_eq!(ok("bytes=5-100"), (5, 6, "bytes 5-10/11".into()));
        assert_eq!(ok("bytes=-20"), (0, 11, "bytes 0-10/11".into()));
        assert_eq!(ok("bytes=-0"), (0, 11, "bytes 0-10/11".into()));
        assert_eq!(ok("bytes=10-10"), (10, 1, "bytes 10-10/11".into()));
        let status = |r: Option<&str>, cr: Option<&str>| span(r, cr).unwrap_err().kind.status();
        assert_eq!(status(Some("bytes=0-1,3-4"), None), 400);
        for bad in [
            "bytes=11-",
            "bytes=abc",
            "bytes=4-2",
            "items=0-1",
            "bytes=1-x",
            "bytes=+1-3",
            "bytes=",
        ] {
            assert_eq!(status(Some(bad), None), 416, "{bad}");
        }
        assert_eq!(
            span(None, Some("bytes 1-3/*")).unwrap().unwrap(),
            (1, 3, "bytes 1-3/11".into())
        );
        assert_eq!(status(None, Some("bytes 1-11/*")), 416);
        assert_eq!(status(None, Some("bytes 3-1/*")), 416);
        assert_eq!(status(None, Some("1-3")), 416);
        assert_eq!(span(None, None).unwrap(), None);
        // Range wins over Content-Range.
        assert_eq!(
            span(Some("bytes=0-0"), Some("bytes 1-3/*"))
                .unwrap()
                .unwrap()
                .0,
            0
        );
    }

    #[test]
    fn declared_sizes_and_data_types() {
        assert_eq!(declared_size(Some(" 5 "), Some(9)).unwrap(), Some(5));
        assert_eq!(declared_size(None, Some(9)).unwrap(), Some(9));
        assert_eq!(declared_size(None, Some(0)).unwrap(), None);
        assert_eq!(
            declared_size(Some("x"), None).unwrap_err().kind.status(),
            400
        );
        assert!(check_data_type(Some("application/octet-stream")).is_ok());
        assert!(check_data_type(Some("Application/Octet-Stream; charset=x")).is_ok());
        for t in [None, Some(""), Some("text/plain"), Some("application/json")] {
            assert_eq!(check_data_type(t).unwrap_err().kind.status(), 415, "{t:?}");
        }
    }
}
