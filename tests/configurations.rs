//! The bundled suite against the mock playing another deployment than the default one: two
//! stores, only the glance-direct and copy-image import methods, and unified limits reported.
//! Nothing fails; the copy among stores and the usage against limits run and pass; every case that needs web-download is ignored with the
//! reason naming the method, and so are those needing locations shown (it hides them, as
//! Glance does by default), and no other.

mod common;

use std::collections::BTreeSet;

use common::{Mock, scratch, sharecheck, target_file, text};
use serde_json::Value;

const DEPLOYMENT: &str = "\
stores:
  - {id: local, description: Fast local disk}
  - {id: backup, description: Backup copies}
  - {id: web, type: http}
default_store: local
import_methods: [glance-direct, copy-image]
unified_limits: {limits: {image_count_total: 100, image_size_total: -1}}
quotas: {image_member_quota: 5}
";

const COPY_CASE: &str = "import_image::202::copy_to_another_store";

/// The trial names of the bundled cases that need `need`.
fn needing(need: &str) -> BTreeSet<String> {
    let suite = sharecheck::Suite::bundled().expect("bundled suite");
    suite
        .cases
        .iter()
        .filter(|c| c.needs.iter().any(|n| n.to_string() == need))
        .map(|c| c.name.clone())
        .collect()
}

#[test]
fn two_stores_without_web_download_pass_with_the_copy_and_ignore_web_download() {
    let dir = scratch("configurations");
    let conf = dir.join("deployment.yaml");
    std::fs::write(&conf, DEPLOYMENT).unwrap();
    let mock = Mock::start(&[
        "--config",
        conf.to_str().unwrap(),
        "--faults",
        "--rate-limit",
        "20",
    ]);
    let target = target_file(
        &mock.uri,
        "configurations-target",
        "member_quota: 5\ntag_quota: 128\ncapabilities: [fault-injection, rate-limit]\n",
    );
    let json = dir.join("results.json");
    let out = sharecheck(&[
        "run",
        "--target",
        target.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["totals"]["failed"], 0, "{all}");

    // What the preflight learned is this deployment, not the default one.
    let facts = &doc["facts"];
    assert_eq!(facts["default_store"], "local");
    let methods: Vec<&str> = facts["import_methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(methods, ["glance-direct", "copy-image"]);
    assert_eq!(facts["unified_limits"], true);

    let cases = doc["cases"].as_array().unwrap();
    let result = |name: &str| {
        cases
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no record of {name}"))
    };
    // The copy among stores ran here (two stores, copy-image) and passed.
    assert!(needing("multiple-stores").contains(COPY_CASE));
    assert_eq!(
        result(COPY_CASE)["result"],
        "passed",
        "{}",
        result(COPY_CASE)
    );

    // So did the usage against unified limits, and the store deletes.
    for name in needing("unified-limits")
        .iter()
        .chain(&needing("multiple-stores"))
    {
        assert_eq!(result(name)["result"], "passed", "{}", result(name));
    }

    // The ignored cases are exactly those needing web-download, each saying why.
    let web = needing("import-method:web-download");
    assert!(!web.is_empty(), "a bundled case needs web-download");
    let ignored: BTreeSet<String> = cases
        .iter()
        .filter(|c| c["result"] == "ignored")
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let shown = needing("locations-shown");
    assert!(!shown.is_empty(), "a bundled case needs locations shown");
    // Its read-only store `web` is an http store: the locations API's cases ran and passed.
    let http = needing("http-store");
    assert!(!http.is_empty(), "a bundled case needs an http store");
    for name in &http {
        assert_eq!(result(name)["result"], "passed", "{}", result(name));
    }
    assert_eq!(ignored, &web | &shown, "{all}");
    for name in &web {
        let reason = result(name)["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains("import method `web-download`"),
            "{name}: {reason}"
        );
    }
    let unmet = facts["unmet_needs"].as_array().unwrap();
    let entry = unmet
        .iter()
        .find(|u| u["need"] == "import-method:web-download")
        .unwrap_or_else(|| panic!("web-download is not an unmet need: {unmet:?}"));
    assert_eq!(entry["cases"].as_u64(), Some(web.len() as u64));
    assert_eq!(unmet.len(), 2, "web-download, locations-shown: {unmet:?}");
    assert!(
        all.contains(&format!(
            "{} case(s) need import-method:web-download and are ignored: target does not offer import method `web-download` (it offers glance-direct, copy-image)",
            web.len()
        )),
        "{all}"
    );
}
