//! The table against the specs, and the test-only row.

use super::*;

/// Rows without a spec: only the test-only row below.
const WITHOUT_SPEC: &[&str] = &["probe_image"];

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

/// A test-only operation: one model method (above) and this row, nothing else.
pub(super) const PROBE: Operation = Operation {
    name: "probe_image",
    method: "GET",
    path: "/v2/images/{image_id}/probe",
    success: 200,
    handler: Handler::Read(|m, c| Ok(Answer::json(&m.probe_image(c.who, c.param(0))?))),
    takes: Takes::Nothing,
    fuzz: Fuzz {
        weight: 2,
        bodies: &[],
        queries: &[],
        compare: Compare::Status,
        says: "probes image {image}",
    },
};

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

#[test]
fn the_table_and_the_specs_agree() {
    let specs = specs();
    for spec in &specs {
        let name = spec["operation"].as_str().expect("operation");
        let row = row_of(name).unwrap_or_else(|| panic!("no row for spec {name}"));
        assert_eq!(spec["method"].as_str(), Some(row.method), "{name}: method");
        assert_eq!(spec["path"].as_str(), Some(row.path), "{name}: path");
        let codes: Vec<u64> = spec["responses"]
            .as_sequence()
            .expect("responses")
            .iter()
            .filter_map(|r| r["code"].as_u64())
            .collect();
        assert!(
            codes.contains(&u64::from(row.success)),
            "{name}: success {} is not in its table {codes:?}",
            row.success
        );
    }
    for row in table() {
        let has_spec = specs
            .iter()
            .any(|s| s["operation"].as_str() == Some(row.name));
        assert!(
            has_spec || WITHOUT_SPEC.contains(&row.name),
            "row {} has no spec",
            row.name
        );
    }
}

#[test]
fn documented_bodies_agree_with_the_specs() {
    for spec in &specs() {
        let name = spec["operation"].as_str().expect("operation");
        let row = row_of(name).expect("row");
        let body = &spec["request_body"];
        match row.takes {
            Takes::Nothing => assert_eq!(body.as_str(), Some("none"), "{name}"),
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
