//! The table against the specs, and the test-only operation (its spec and row).

use super::*;

/// Specs without a row of their own: their page documents another body on a route a
/// row serves (the export task is a `POST /v2/tasks`, which the import task's row
/// answers).
const SHARING_A_ROW: &[(&str, &str)] = &[("task_to_export_image", "task_to_import_image")];

fn row_of(spec: &str) -> Option<&'static Operation> {
    by_name(spec).or_else(|| {
        let (_, row) = SHARING_A_ROW.iter().find(|(s, _)| *s == spec)?;
        by_name(row)
    })
}

/// A model method that exists only in unit tests, for the row below.
impl Model {
    fn probe_image(&self, who: &Identity, image_id: &str) -> Outcome<Value> {
        let image = self.show_image(who, image_id)?;
        Ok(json!({"id": image.id, "probed": true}))
    }
}

/// The spec of a test-only operation, its one declaration: the row below reads its name,
/// method, path and success from it, and the suite its codes and matrix rows (`mock::one_row`).
pub(crate) const PROBE_SPEC: &str = r#"operation: probe_image
title: Probe an image
source: reference-behaviour
method: GET
path: /v2/images/{image_id}/probe
parameters:
  - {name: image_id, in: path, type: uuid, description: The image to probe.}
request_body: none
response_body:
  json:
    fields:
      - {name: probed, required: true, description: Always true.}
responses:
  - {code: 200, name: OK, meaning: The image was probed.}
  - {code: 401, name: Unauthorized, meaning: No token or a bad one.}
  - {code: 404, name: Not Found, meaning: The caller may not see the image.}
matrix:
  image: {}
  check: {kind: json, values: {/id: "{img}", /probed: true}}
  rows:
    private:   [200, no-members, no-members, no-members, no-members, 404, 200, 200, 401, 401]
    shared:    [200, 200, 200, 200, 200, 404, 200, 200, 401, 401]
    community: [200, no-members, no-members, no-members, no-members, 200, 200, 200, 401, 401]
    public:    [200, no-members, no-members, no-members, no-members, 200, 200, 200, 401, 401]
"#;

/// `PROBE_SPEC`'s declaration, read as `build.rs` reads `specs/`.
fn probe_declared() -> Declared {
    let read = declare::read(PROBE_SPEC).expect("the test spec declares its operation");
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    assert_eq!(read.body, "None");
    Declared {
        name: leak(read.name),
        method: leak(read.method),
        path: leak(read.path),
        success: read.success,
        body: Body::None,
        since: read.since,
    }
}

/// A test-only operation: its spec (above), one model method and this row, nothing else.
pub(super) fn probe() -> Operation {
    Operation {
        declared: probe_declared(),
        handler: Handler::Read(|m, c| Ok(Answer::json(&m.probe_image(c.who, c.param(0))?))),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 2,
            bodies: &[],
            queries: &[],
            compare: Compare::Status,
            says: "probes image {image}",
        },
    }
}

fn specs() -> Vec<serde_yaml::Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/specs");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("specs/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).expect("readable spec");
            out.push(serde_yaml::from_str(&text).expect("spec YAML"));
        }
    }
    out
}

/// The generated declarations say what the suite's loader reads from the same files.
#[test]
fn the_declarations_are_the_specs() {
    let suite = crate::suite::Suite::bundled().expect("bundled suite");
    assert_eq!(declared::DECLARED.len(), suite.operations.len());
    for spec in &suite.operations {
        let name = spec.operation.as_str();
        let d = declared::DECLARED
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no declaration of {name}"));
        assert_eq!(d.method, spec.method, "{name}: method");
        assert_eq!(d.path, spec.path, "{name}: path");
        let first_success = spec
            .responses
            .iter()
            .map(|r| r.code)
            .find(|c| (200..300).contains(c));
        assert_eq!(Some(d.success), first_success, "{name}: success");
        let body = match &spec.request_body {
            crate::suite::spec::BodyShape::Keyword(k) if k == "none" => Body::None,
            crate::suite::spec::BodyShape::Keyword(k) if k == "ignored" => Body::Ignored,
            crate::suite::spec::BodyShape::Keyword(_) => Body::Data,
            crate::suite::spec::BodyShape::Json { .. } => Body::Json,
        };
        assert_eq!(d.body, body, "{name}: request body");
        assert_eq!(d.since, spec.since, "{name}: since");
    }
}

/// Every declaration has its row (or shares one) and every row is declared: the table
/// holds each declaration once, as it is.
#[test]
fn every_declaration_has_a_row_and_every_row_a_declaration() {
    for d in declared::DECLARED {
        let row = row_of(d.name).unwrap_or_else(|| panic!("no row for spec {}", d.name));
        if row.name == d.name {
            assert_eq!(row.declared, *d, "{}", d.name);
        }
    }
    let probe = probe_declared();
    for row in table() {
        assert!(
            declared::DECLARED.contains(&row.declared) || row.declared == probe,
            "row {} has no declaration",
            row.name
        );
    }
}

/// A row's documented body is of the kind its spec declares.
#[test]
fn a_rows_body_is_of_its_declared_kind() {
    for row in table() {
        let kind = match row.takes {
            Takes::Nothing if row.body == Body::Ignored => Body::Ignored,
            Takes::Nothing => Body::None,
            Takes::Data => Body::Data,
            Takes::Patch | Takes::Object { .. } => Body::Json,
        };
        assert_eq!(kind, row.body, "{}", row.name);
    }
}

/// A spec without its declaration keys is refused with what is missing.
#[test]
fn a_spec_missing_a_declaration_key_is_refused() {
    let without_path = PROBE_SPEC.replace("path: /v2/images/{image_id}/probe\n", "");
    assert_eq!(declare::read(&without_path), Err("no path".into()));
    let no_success = PROBE_SPEC.replace("code: 200", "code: 409");
    assert_eq!(
        declare::read(&no_success),
        Err("no a 2xx code under responses".into())
    );
    let odd_since = PROBE_SPEC.replace("request_body: none", "since: \"3.1\"\nrequest_body: none");
    assert!(
        declare::read(&odd_since).is_err_and(|e| e.contains("since `3.1`")),
        "{odd_since}"
    );
    let odd_body = PROBE_SPEC.replace("request_body: none", "request_body: bytes");
    assert_eq!(
        declare::read(&odd_body),
        Err("line 8: request_body `bytes`".into())
    );
}

#[test]
fn documented_bodies_agree_with_the_specs() {
    for spec in &specs() {
        let name = spec["operation"].as_str().expect("operation");
        let row = row_of(name).expect("row");
        let body = &spec["request_body"];
        match row.takes {
            Takes::Nothing => assert!(matches!(body.as_str(), Some("none" | "ignored")), "{name}"),
            Takes::Data => assert_eq!(body.as_str(), Some("data"), "{name}"),
            Takes::Patch => assert!(body["json"].is_mapping(), "{name}"),
            Takes::Object { fields, .. } => {
                let documented = body["json"]["fields"].as_sequence().expect(name);
                for f in documented {
                    let fname = f["name"].as_str().expect("field name");
                    let known = fields.iter().find(|k| k.name == fname);
                    let required = f["required"].as_bool().unwrap_or(false);
                    assert!(
                        known.is_some_and(|k| k.required == required),
                        "{name}: field {fname} (required: {required}) is not in the row"
                    );
                }
                for k in fields.iter().filter(|k| k.required) {
                    assert!(
                        documented
                            .iter()
                            .any(|f| f["name"].as_str() == Some(k.name)),
                        "{name}: required {} is not documented",
                        k.name
                    );
                }
            }
        }
    }
}

#[test]
fn names_and_routes_are_unique() {
    for (i, a) in table().iter().enumerate() {
        for b in &table()[i + 1..] {
            assert_ne!(a.name, b.name);
            assert!(
                a.method != b.method || a.path != b.path,
                "{} and {}",
                a.name,
                b.name
            );
        }
    }
}

#[test]
fn allow_lists_the_methods_of_a_path_in_table_order() {
    let allow_of = |path: &str| {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        allow(&matching(table(), &segs))
    };
    assert_eq!(allow_of("/v2/images"), "GET, POST");
    assert_eq!(allow_of("/v2/images/x"), "GET, PATCH, DELETE");
    assert_eq!(allow_of("/v2/images/x/tags/t"), "PUT, DELETE");
    assert_eq!(allow_of("/v2/images/x/members"), "GET, POST");
    assert_eq!(allow_of("/v2/images/x/members/y"), "GET, PUT, DELETE");
    assert_eq!(allow_of("/v2/schemas/member"), "GET");
    assert_eq!(allow_of("/v2/nothing"), "");
}

#[test]
fn parameters_come_in_template_order() {
    let row = by_name("show_image_member").expect("row");
    assert_eq!(
        row.matches(&["v2", "images", "i", "members", "m"]),
        Some(vec!["i", "m"])
    );
    assert_eq!(row.matches(&["v2", "images", "i", "members"]), None);
    assert_eq!(row.matches(&["v2", "images", "i", "tags", "m"]), None);
}
