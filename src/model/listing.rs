//! The query of the image list (`GET /v2/images`): its filters, sort order and page, read
//! and checked in the order the reference checks them.
//!
//! Order of the checks: `visibility` → `member_status` → `limit` → sorting (`sort`, or
//! `sort_key`/`sort_dir`) → `os_hidden` → `protected` → the attribute filters, in query order
//! (ranges `*_min`/`*_max`, times with an operator, `name`/`id`/`status`/formats with `eq:`
//! or `in:`). Single-valued parameters take their last value; `tag`, `sort_key` and
//! `sort_dir` may repeat.

use std::cmp::Ordering;

use serde_json::Value;

use super::{ApiError, Image, MemberStatus, Result, Visibility};

/// What the image list may be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SortKey {
    Name,
    Status,
    ContainerFormat,
    DiskFormat,
    Size,
    Id,
    CreatedAt,
    UpdatedAt,
}

const SORT_KEYS: [(&str, SortKey); 8] = [
    ("name", SortKey::Name),
    ("status", SortKey::Status),
    ("container_format", SortKey::ContainerFormat),
    ("disk_format", SortKey::DiskFormat),
    ("size", SortKey::Size),
    ("id", SortKey::Id),
    ("created_at", SortKey::CreatedAt),
    ("updated_at", SortKey::UpdatedAt),
];

/// One value of a sort key; an unset value sorts before every set one.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortValue<'a> {
    Unset,
    Text(&'a str),
    /// A number: a time by the order of events (the reference keeps microseconds), a size.
    Seq(u64),
}

impl SortKey {
    fn parse(s: &str) -> Result<SortKey> {
        SORT_KEYS
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                let names: Vec<&str> = SORT_KEYS.iter().map(|(n, _)| *n).collect();
                ApiError::bad_request(format!(
                    "Invalid sort key: {s}. It should be one of the following: {}.",
                    names.join(", ")
                ))
            })
    }

    fn of<'a>(self, img: &'a Image) -> SortValue<'a> {
        let text = |v: &'a Option<String>| v.as_deref().map_or(SortValue::Unset, SortValue::Text);
        match self {
            SortKey::Name => text(&img.name),
            SortKey::Status => SortValue::Text(img.status.as_str()),
            SortKey::ContainerFormat => text(&img.container_format),
            SortKey::DiskFormat => text(&img.disk_format),
            SortKey::Size => img.size().map_or(SortValue::Unset, SortValue::Seq),
            SortKey::Id => SortValue::Text(&img.id),
            SortKey::CreatedAt => SortValue::Seq(img.created_seq),
            SortKey::UpdatedAt => SortValue::Seq(img.updated_seq),
        }
    }
}

/// A sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    Asc,
    Desc,
}

impl Dir {
    fn parse(s: &str) -> Result<Dir> {
        match s {
            "asc" => Ok(Dir::Asc),
            "desc" => Ok(Dir::Desc),
            _ => Err(ApiError::bad_request(format!(
                "Invalid sort direction: {s}"
            ))),
        }
    }
}

/// The order of a list: keys with their directions, `created_at` and `id` appended when not
/// named (so the order is total).
#[derive(Debug, PartialEq)]
pub(crate) struct Order(pub(crate) Vec<(SortKey, Dir)>);

impl Order {
    /// `keys` sorted by `dirs`: none means descending, one applies to every key and to the
    /// appended ones.
    fn complete(mut keys: Vec<SortKey>, dirs: Vec<Dir>) -> Order {
        if keys.is_empty() {
            keys.push(SortKey::CreatedAt);
        }
        let default = if dirs.len() == 1 { dirs[0] } else { Dir::Desc };
        let mut pairs: Vec<(SortKey, Dir)> = match dirs.len() {
            0 | 1 => keys.iter().map(|k| (*k, default)).collect(),
            _ => keys.iter().copied().zip(dirs).collect(),
        };
        for key in [SortKey::CreatedAt, SortKey::Id] {
            if !keys.contains(&key) {
                pairs.push((key, default));
            }
        }
        Order(pairs)
    }

    /// How `a` and `b` compare in this order.
    pub(crate) fn cmp(&self, a: &Image, b: &Image) -> Ordering {
        for (key, dir) in &self.0 {
            let o = key.of(a).cmp(&key.of(b));
            let o = if *dir == Dir::Desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// From `sort=key:dir,…` or repeated `sort_key` and `sort_dir` (not both).
    fn parse(query: &[(String, String)]) -> Result<Order> {
        let values = |name: &str| -> Vec<&str> {
            query
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.trim())
                .collect()
        };
        let (keys, dirs) = (values("sort_key"), values("sort_dir"));
        if let Some(sort) = values("sort").first() {
            if !keys.is_empty() || !dirs.is_empty() {
                return Err(ApiError::bad_request(
                    "Old and new sorting syntax cannot be combined",
                ));
            }
            let (mut keys, mut dirs) = (Vec::new(), Vec::new());
            for part in sort.split(',') {
                let (key, dir) = part.split_once(':').unwrap_or((part, ""));
                let dir = if dir.is_empty() { "desc" } else { dir };
                keys.push(SortKey::parse(key.trim())?);
                dirs.push(Dir::parse(dir.trim())?);
            }
            return Ok(Order::complete(keys, dirs));
        }
        let keys = keys
            .into_iter()
            .map(SortKey::parse)
            .collect::<Result<Vec<_>>>()?;
        let dirs = dirs
            .into_iter()
            .map(Dir::parse)
            .collect::<Result<Vec<_>>>()?;
        if dirs.len() > 1 && dirs.len() != keys.len() {
            return Err(ApiError::bad_request(
                "Number of sort dirs does not match the number of sort keys",
            ));
        }
        Ok(Order::complete(keys, dirs))
    }
}

/// A comparison of one attribute filter.
#[derive(Debug)]
enum Test {
    /// Equal to the value (`eq:`, or no operator).
    Eq(String),
    /// One of the values (`in:a,b,"c,d"`).
    In(Vec<String>),
    /// A time compared with `gt`, `gte`, `lt`, `lte`, `eq` or `neq`.
    Time(&'static str, String),
    /// At least (`_min`) or at most (`_max`) a number.
    Range { min: bool, bound: u64 },
}

/// Filters and page of the image list.
#[derive(Debug)]
pub(crate) struct ListQuery {
    pub(crate) visibility: Option<Visibility>,
    /// `None` means `all`.
    pub(crate) member_status: Option<MemberStatus>,
    /// Every one of these tags (`tag` may repeat).
    pub(crate) tags: Vec<String>,
    /// Page size asked for.
    pub(crate) limit: Option<usize>,
    /// Last id of the previous page.
    pub(crate) marker: Option<String>,
    pub(crate) order: Order,
    /// Hidden images instead of the others (`os_hidden=true`).
    os_hidden: bool,
    protected: Option<bool>,
    /// Attribute and property filters, by name.
    tests: Vec<(String, Test)>,
}

/// Parameters that are not attribute filters.
const NOT_FILTERS: &[&str] = &[
    "visibility",
    "member_status",
    "tag",
    "limit",
    "marker",
    "sort",
    "sort_key",
    "sort_dir",
    "os_hidden",
    "protected",
];

impl ListQuery {
    pub(crate) fn parse(query: &[(String, String)]) -> Result<ListQuery> {
        let last = |name: &str| {
            query
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let visibility =
            match last("visibility") {
                None | Some("all") => None,
                Some(v) => Some(Visibility::parse(v).ok_or_else(|| {
                    ApiError::bad_request(format!("Invalid visibility value: {v}"))
                })?),
            };
        let member_status = match last("member_status").unwrap_or("accepted") {
            "all" => None,
            v => Some(
                MemberStatus::parse(v)
                    .ok_or_else(|| ApiError::bad_request(format!("Invalid status value: {v}")))?,
            ),
        };
        let limit = last("limit")
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::bad_request("limit must be a non-negative integer"))
            })
            .transpose()?;
        let order = Order::parse(query)?;
        let os_hidden = match last("os_hidden").unwrap_or("false").to_lowercase().as_str() {
            "true" => true,
            "false" => false,
            v => return Err(invalid_boolean("os_hidden", v)),
        };
        let protected = match last("protected") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(v) => return Err(invalid_boolean("protected", v)),
        };
        let mut tests: Vec<(String, Test)> = Vec::new();
        for (k, _) in query {
            if NOT_FILTERS.contains(&k.as_str()) || tests.iter().any(|(t, _)| t == k) {
                continue;
            }
            let v = last(k).unwrap_or_default();
            tests.push((k.clone(), test_of(k, v)?));
        }
        Ok(ListQuery {
            visibility,
            member_status,
            tags: query
                .iter()
                .filter(|(k, _)| k == "tag")
                .map(|(_, v)| v.trim().to_string())
                .collect(),
            limit,
            marker: last("marker").map(String::from),
            order,
            os_hidden,
            protected,
            tests,
        })
    }

    /// Whether `img` passes every filter but visibility, member status and the caller's view.
    pub(crate) fn admits(&self, img: &Image) -> bool {
        img.os_hidden == self.os_hidden
            && self.protected.is_none_or(|p| img.protected == p)
            && self.tags.iter().all(|t| img.tags.contains(t))
            && self.tests.iter().all(|(k, t)| passes(img, k, t))
    }
}

fn invalid_boolean(name: &str, v: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid value '{v}' for '{name}' filter. Valid values are 'true' or 'false'."
    ))
}

/// The comparison `key=value` asks for.
fn test_of(key: &str, value: &str) -> Result<Test> {
    if key.ends_with("_min") || key.ends_with("_max") {
        let bound = value.parse().map_err(|_| {
            ApiError::bad_request("Unable to filter on a range with a non-numeric value.")
        })?;
        return Ok(Test::Range {
            min: key.ends_with("_min"),
            bound,
        });
    }
    let operator = || -> (&str, &str) {
        match value.split_once(':') {
            Some(_) if humantime::parse_rfc3339_weak(value).is_ok() => ("eq", value),
            Some((op, rest)) => (op, rest),
            None => ("eq", value),
        }
    };
    match key {
        "created_at" | "updated_at" => {
            let (op, time) = operator();
            let op = ["gt", "gte", "lt", "lte", "eq", "neq"]
                .into_iter()
                .find(|o| *o == op)
                .ok_or_else(|| unknown_operator(op))?;
            let when = humantime::parse_rfc3339_weak(time.trim_end_matches('Z')).map_err(|_| {
                ApiError::bad_request(format!(
                    "Bad \"{key}\" query filter format. Use ISO 8601 DateTime notation."
                ))
            })?;
            let when = humantime::format_rfc3339_seconds(when).to_string();
            Ok(Test::Time(op, when))
        }
        "name" | "id" | "status" | "container_format" | "disk_format" => match operator() {
            ("eq", v) => Ok(Test::Eq(v.to_string())),
            ("in", v) => Ok(Test::In(split_in(v)?)),
            (op, _) => Err(unknown_operator(op)),
        },
        _ => Ok(Test::Eq(value.to_string())),
    }
}

fn unknown_operator(op: &str) -> ApiError {
    ApiError::bad_request(format!("Unable to filter by unknown operator '{op}'."))
}

/// The values of `in:`: split at commas, a double-quoted value may hold commas.
fn split_in(list: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = list;
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid filter value {list}. The quote is not closed."
                ))
            })?;
            out.push(quoted[..end].to_string());
            let after = &quoted[end + 1..];
            rest = after.strip_prefix(',').unwrap_or(after);
        } else {
            let (item, tail) = rest.split_once(',').unwrap_or((rest, ""));
            if item.contains('"') {
                return Err(ApiError::bad_request(format!(
                    "Invalid filter value {list}. There is no comma before opening quotation mark."
                )));
            }
            out.push(item.to_string());
            rest = tail;
        }
    }
    Ok(out)
}

/// Whether `img` passes the filter `key` with `test`.
fn passes(img: &Image, key: &str, test: &Test) -> bool {
    match test {
        Test::Range { min, bound } => match numeric(img, key.get(..key.len() - 4).unwrap_or("")) {
            Some(n) if *min => n >= *bound,
            Some(n) => n <= *bound,
            None => false,
        },
        Test::Time(op, when) => {
            // The reference compares times to the microsecond, and an image is made a moment
            // into its second: it is after that whole second, never equal to it.
            let at = if key == "created_at" {
                &img.created_at
            } else {
                &img.updated_at
            };
            match *op {
                "gt" | "gte" => at >= when,
                "lt" | "lte" => at < when,
                "neq" => true,
                _ => false,
            }
        }
        Test::In(values) => attribute(img, key).is_some_and(|v| values.contains(&v)),
        Test::Eq(value) => attribute(img, key).is_some_and(|v| v == *value),
    }
}

/// A numeric attribute (none when unset: an image without data has no size).
fn numeric(img: &Image, attr: &str) -> Option<u64> {
    match attr {
        "min_ram" => Some(img.min_ram),
        "min_disk" => Some(img.min_disk),
        "size" => img.size(),
        _ => None,
    }
}

/// An attribute or extra property as the text a filter compares with (none when unset).
fn attribute(img: &Image, key: &str) -> Option<String> {
    let text = |v: &Option<String>| v.clone();
    match key {
        "name" => text(&img.name),
        "id" => Some(img.id.clone()),
        "status" => Some(img.status.as_str().to_string()),
        "container_format" => text(&img.container_format),
        "disk_format" => text(&img.disk_format),
        "owner" => Some(img.owner.clone()),
        "min_ram" => Some(img.min_ram.to_string()),
        "min_disk" => Some(img.min_disk.to_string()),
        "size" => img.size().map(|n| n.to_string()),
        "virtual_size" | "checksum" | "os_hash_algo" | "os_hash_value" => {
            let d = img.data.as_ref()?;
            match key {
                "virtual_size" => d.virtual_size.map(|v| v.to_string()),
                "checksum" => Some(d.checksum.clone()),
                "os_hash_algo" => Some(super::data::HASH_ALGO.to_string()),
                _ => Some(d.os_hash_value.clone()),
            }
        }
        _ => match img.extra.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(s.as_bytes()).into_owned().collect()
    }

    #[test]
    fn one_direction_applies_to_every_key_and_the_tie_breakers() {
        use {Dir::*, SortKey::*};
        let order = |s| Order::parse(&q(s)).map(|o| o.0);
        assert_eq!(order("").unwrap(), [(CreatedAt, Desc), (Id, Desc)]);
        assert_eq!(
            order("sort_key=name&sort_dir=asc").unwrap(),
            [(Name, Asc), (CreatedAt, Asc), (Id, Asc)]
        );
        assert_eq!(
            order("sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc").unwrap(),
            [(Name, Asc), (Size, Desc), (CreatedAt, Desc), (Id, Desc)]
        );
        assert_eq!(
            order("sort=name:asc,id").unwrap(),
            [(Name, Asc), (Id, Desc), (CreatedAt, Desc)]
        );
        assert_eq!(order("sort=%20name:%20").unwrap()[0], (Name, Desc));
        for bad in [
            "sort_key=owner",
            "sort_dir=up",
            "sort=name&sort_dir=asc",
            "sort_key=name&sort_dir=asc&sort_dir=desc&sort_dir=asc",
            "sort=name:sideways",
        ] {
            assert!(order(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filters_read_operators_lists_and_ranges() {
        assert!(
            matches!(test_of("name", "in:a,\"b,c\"").unwrap(), Test::In(v) if v == ["a", "b,c"])
        );
        assert!(matches!(test_of("name", "eq:x:y").unwrap(), Test::Eq(v) if v == "x:y"));
        assert!(matches!(test_of("owner", "a:b").unwrap(), Test::Eq(v) if v == "a:b"));
        assert!(matches!(
            test_of("size_max", "10").unwrap(),
            Test::Range {
                min: false,
                bound: 10
            }
        ));
        for (k, v) in [
            ("name", "like:x"),
            ("name", "in:\"open"),
            ("size_min", "-1"),
            ("created_at", "gt:soon"),
            ("created_at", "around:2020-01-01T00:00:00Z"),
        ] {
            assert!(test_of(k, v).is_err(), "{k}={v}");
        }
        assert!(ListQuery::parse(&q("os_hidden=TRUE")).is_ok());
        assert!(ListQuery::parse(&q("protected=TRUE")).is_err());
    }
}
