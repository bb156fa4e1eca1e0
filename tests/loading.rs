//! The loaders: bundled data is valid and covers every table row; bad files are refused with
//! the file, line and column and what was expected.

use std::path::{Path, PathBuf};

use sharecheck::{Suite, TargetFile};

/// A scratch copy of the repository's specs/ and cases/ that a test may break. The specs are
/// copied; the case files are hard links where the file system allows (most of the set-up
/// time is writing 4.7 MB of cases), so a test changes a case only through `write`.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("sharecheck-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        copy(&root.join("specs"), &dir.join("specs"), false);
        copy(&root.join("cases"), &dir.join("cases"), true);
        Scratch(dir)
    }
    /// Writes `text` at `rel`, first unlinking what is there so that no original changes.
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&p);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn errors(&self) -> String {
        Suite::from_dir(&self.0)
            .expect_err("must be refused")
            .to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies the tree `from` to `to`; with `link`, files are hard-linked when they can be.
fn copy(from: &Path, to: &Path, link: bool) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (p, dest) = (e.path(), to.join(e.file_name()));
        if p.is_dir() {
            copy(&p, &dest, link);
        } else if !(link && std::fs::hard_link(&p, &dest).is_ok()) {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

const GOOD: &str = "\
id: test-case
operation: delete_image_member
code: 404
purpose: A test case.
request:
  as: stranger
  method: DELETE
  path: /v2/images/{random_uuid}/members/{member}
expect:
  status: 404
";

#[test]
fn bundled_suite_loads_and_matches_the_files_on_disk() {
    let bundled = Suite::bundled().expect("bundled suite is valid");
    let disk = Suite::from_dir(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("valid on disk");
    let names = |s: &Suite| s.cases.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&bundled), names(&disk));
    assert!(bundled.cases.len() >= 30);
}

#[test]
fn every_table_row_has_a_case_or_a_reason() {
    let suite = Suite::bundled().unwrap();
    assert_eq!(suite.uncovered(), Vec::<(String, u16)>::new());
    let delete = suite
        .operations
        .iter()
        .find(|o| o.operation == "delete_image_member")
        .unwrap();
    let codes: Vec<u16> = delete.responses.iter().map(|r| r.code).collect();
    assert_eq!(codes, [204, 400, 401, 403, 404, 405, 413, 500, 503]);
    for code in codes {
        assert!(
            suite
                .cases
                .iter()
                .any(|c| c.file.operation == "delete_image_member" && c.file.code == code),
            "no case for delete_image_member {code}"
        );
    }
}

#[test]
fn a_row_without_case_or_reason_is_reported() {
    let s = Scratch::new("uncovered");
    for f in std::fs::read_dir(s.0.join("cases/delete_image_member/405")).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    let suite = Suite::from_dir(&s.0).unwrap();
    assert_eq!(
        suite.uncovered(),
        vec![("delete_image_member".to_string(), 405)]
    );
}

#[test]
fn a_good_extra_case_loads() {
    let s = Scratch::new("good");
    s.write("cases/delete_image_member/404/extra.yaml", GOOD);
    let suite = Suite::from_dir(&s.0).unwrap();
    assert!(suite.case("delete_image_member::404::extra").is_some());
}

#[test]
fn unknown_key_names_file_line_and_column() {
    let s = Scratch::new("unknown-key");
    let p = s.write(
        "cases/delete_image_member/404/extra.yaml",
        &GOOD.replace("  status: 404\n", "  status: 404\n  bodyy: {kind: empty}\n"),
    );
    let err = s.errors();
    assert!(
        err.contains(&format!(
            "{}:11:3: expect: unknown field `bodyy`",
            p.display()
        )),
        "{err}"
    );
}

#[test]
fn bad_values_are_refused_with_a_line() {
    let cases = [
        (
            "  as: stranger\n",
            "  as: nobody\n",
            "caller `nobody` is not one of",
            6,
        ),
        (
            "code: 404\n",
            "code: 418\n",
            "code 418 does not match the folder `404`",
            3,
        ),
        ("{member}", "{membr}", "unknown placeholder `{membr}`", 8),
        (
            "  method: DELETE\n",
            "  method: FETCH\n",
            "method `FETCH` is not one of",
            7,
        ),
        (
            "  status: 404\n",
            "  status: 204\n",
            "expects 204 but the case cites code 404",
            10,
        ),
    ];
    for (from, to, want, line) in cases {
        let s = Scratch::new("bad-value");
        let p = s.write(
            "cases/delete_image_member/404/extra.yaml",
            &GOOD.replace(from, to),
        );
        let err = s.errors();
        assert!(err.contains(want), "{to:?}: {err}");
        assert!(
            err.contains(&format!("{}:{line}", p.display())),
            "{to:?}: {err}"
        );
    }
}

#[test]
fn an_unknown_need_is_refused_at_its_item_listing_the_known_forms() {
    let s = Scratch::new("unknown-need");
    let p = s.write(
        "cases/delete_image_member/404/extra.yaml",
        &GOOD.replace(
            "request:\n",
            "requires: [fault-injection, import-method:ftp]\nrequest:\n",
        ),
    );
    let err = s.errors();
    assert!(
        err.contains(&format!(
            "{}:5:29: unknown need `import-method:ftp`; known: fault-injection, rate-limit, other_member, admin, reader,",
            p.display()
        )),
        "{err}"
    );
    for form in [
        "api:2.N",
        "import-method:<glance-direct|web-download|copy-image|glance-download>",
        "multiple-stores",
        "cache",
        "locations-shown",
        "locations-hidden",
        "image-format-match",
    ] {
        assert!(err.contains(form), "{form}: {err}");
    }
    // A block list points at its item too; an API version must be 2.N.
    let s = Scratch::new("unknown-need-block");
    let p = s.write(
        "cases/delete_image_member/404/extra.yaml",
        &GOOD.replace(
            "request:\n",
            "requires:\n  - cache\n  - api:3.1\nrequest:\n",
        ),
    );
    let err = s.errors();
    assert!(
        err.contains(&format!("{}:7:5: unknown need `api:3.1`", p.display())),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.contains("unknown need")).count(),
        1
    );
}

#[test]
fn a_case_needs_the_version_its_operation_appeared_in_and_the_stores_it_names() {
    let suite = Suite::bundled().unwrap();
    let needs = |name: &str| -> Vec<String> {
        let case = suite.case(name).unwrap_or_else(|| panic!("no case {name}"));
        case.needs.iter().map(|n| n.to_string()).collect()
    };
    // list_image_tasks is new in v2.12.
    let tasks = needs("list_image_tasks::200::none_before_an_import");
    assert!(tasks.contains(&"api:2.12".into()), "{tasks:?}");
    // Operations of v2.0 need no version.
    assert!(
        !needs("show_image::404::malformed_id")
            .iter()
            .any(|n| n.starts_with("api:"))
    );
    let stores = needs("get_stores_info::200::reader_reads_it");
    assert!(stores.contains(&"api:2.8".into()) && stores.contains(&"stores".into()));

    // `{default_store}` needs a store list; `{other_store}` two stores; and what
    // `requires` says is kept.
    let s = Scratch::new("fact-placeholders");
    s.write(
        "cases/import_image/202/extra.yaml",
        "id: extra\noperation: import_image\ncode: 202\npurpose: A copy among stores.\nrequires: [import-method:copy-image]\nsetup:\n  images:\n    img: {visibility: public, data: abc}\nrequest:\n  as: admin\n  method: POST\n  path: /v2/images/{img}/import\n  body: {method: {name: copy-image}, stores: [\"{other_store}\"]}\nexpect:\n  status: 202\nthen:\n  - request: {as: owner, method: GET, path: \"/v2/images/{img}\"}\n    expect: {status: 200, body: {kind: json, values: {/stores: \"{default_store},{other_store}\"}}}\n",
    );
    let suite = Suite::from_dir(&s.0).unwrap();
    let copy: Vec<String> = suite
        .case("import_image::202::extra")
        .expect("the extra case")
        .needs
        .iter()
        .map(|n| n.to_string())
        .collect();
    for n in [
        "api:2.6",
        "import-method:copy-image",
        "multiple-stores",
        "stores",
        "admin",
    ] {
        assert!(copy.contains(&n.to_string()), "{n}: {copy:?}");
    }
}

#[test]
fn an_error_points_at_its_own_node_not_the_first_key_of_that_name() {
    // `as`, `method` and `path` appear in the request under test and again in a `then`
    // step; the errors are about the second ones, and point there (line and column).
    let s = Scratch::new("second-key");
    let text = format!(
        "{GOOD}then:\n  - request:\n      as: nobody\n      method: FETCH\n      path: v2/images\n    expect:\n      status: 200\n"
    );
    let p = s.write("cases/delete_image_member/404/extra.yaml", &text);
    let err = s.errors();
    for (at, want) in [
        ("13:11", "caller `nobody` is not one of"),
        ("14:15", "method `FETCH` is not one of"),
        ("15:13", "path `v2/images` must start with /"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("{}:{at}: ", p.display())) && l.contains(want)),
            "{at} {want}: {err}"
        );
    }
    // A key is pointed at by its own position too: the second image's bad member.
    let s = Scratch::new("second-member");
    let text = GOOD.replace(
        "request:\n",
        "setup:\n  images:\n    one:\n      members: {member: pending}\n    two:\n      members:\n        member: accepted\n        owner: pending\nrequest:\n",
    );
    let p = s.write("cases/delete_image_member/404/extra.yaml", &text);
    let err = s.errors();
    assert!(
        err.contains(&format!(
            "{}:12:9: member `owner` must be a persona other than owner",
            p.display()
        )),
        "{err}"
    );
}

#[test]
fn wrong_type_and_broken_yaml_are_refused() {
    let s = Scratch::new("types");
    let p = s.write(
        "cases/delete_image_member/404/extra.yaml",
        &GOOD.replace("code: 404", "code: four"),
    );
    let err = s.errors();
    assert!(
        err.contains(&format!("{}:3:7: code: invalid type", p.display())),
        "{err}"
    );

    let s = Scratch::new("yaml");
    let p = s.write(
        "cases/delete_image_member/404/extra.yaml",
        "id: [unclosed\n",
    );
    let err = s.errors();
    assert!(err.contains(&p.display().to_string()), "{err}");
}

#[test]
fn duplicate_ids_and_misplaced_files_are_refused() {
    let s = Scratch::new("dup");
    s.write("cases/delete_image_member/404/one.yaml", GOOD);
    s.write("cases/delete_image_member/404/two.yaml", GOOD);
    assert!(s.errors().contains("id `test-case` is also used by"));

    let s = Scratch::new("misplaced");
    s.write("cases/delete_image_member/extra.yaml", GOOD);
    assert!(
        s.errors()
            .contains("must live at cases/<operation>/<code>/<name>.yaml")
    );

    let s = Scratch::new("stray");
    s.write("cases/delete_image_member/404/notes.txt", "hello");
    assert!(s.errors().contains("not a .yaml file"));
}

#[test]
fn spec_problems_are_refused() {
    let s = Scratch::new("spec");
    let p = s.0.join("specs/delete_image_member.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace("  - code: 413", "  - code: 404")).unwrap();
    let err = s.errors();
    assert!(err.contains("code 404 appears twice in the table"), "{err}");

    let s = Scratch::new("spec-since");
    let p = s.0.join("specs/list_image_tasks.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains("since: \"2.12\""));
    std::fs::write(&p, text.replace("since: \"2.12\"", "since: \"v2.12\"")).unwrap();
    let line = 1 + text.lines().position(|l| l.starts_with("since:")).unwrap();
    let err = s.errors();
    assert!(
        err.contains(&format!(
            "{}:{line}: since `v2.12` is not an Image API version 2.N",
            p.display()
        )),
        "{err}"
    );

    let s = Scratch::new("spec-follows");
    let p = s.0.join("specs/update_image.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    let start = text
        .find("follows: >-\n")
        .expect("update_image says what it follows");
    let end = start + text[start..].find("\nmethod:").unwrap() + 1;
    std::fs::write(
        &p,
        format!("{}follows: reference\n{}", &text[..start], &text[end..]),
    )
    .unwrap();
    let err = s.errors();
    assert!(err.contains("follows needs a sentence"), "{err}");
}

#[test]
fn target_files_are_validated() {
    let dir = std::env::temp_dir().join(format!("sharecheck-target-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |text: &str| {
        let p = dir.join("target.yaml");
        std::fs::write(&p, text).unwrap();
        p
    };
    let good = "endpoint: http://127.0.0.1:9292\npersonas:\n  owner: {token: a, project_id: p1}\n  member: {token: b, project_id: p2}\n  stranger: {token: c, project_id: p3}\n";
    assert!(TargetFile::load(&write(good)).is_ok());
    let declared = TargetFile::load(&write(&format!(
        "{good}deployment: {{locations_shown: true, cache: true}}\n"
    )))
    .unwrap();
    let d = declared.deployment.expect("the section is read");
    assert!(d.locations_shown && d.cache && d.image_format_match);
    let bad = [
        (
            good.replace("http://", "ftp://"),
            "is not an http:// or https:// URL",
        ),
        (
            good.replace("  stranger: {token: c, project_id: p3}\n", ""),
            "persona `stranger` is required",
        ),
        (
            good.replace("p3", "p2"),
            "personas must be distinct projects",
        ),
        (
            format!("{good}capabilities: [teleport]\n"),
            "unknown capability `teleport`",
        ),
        (format!("{good}colour: blue\n"), "unknown field `colour`"),
        (
            format!("{good}deployment:\n  cache: true\n  shown: true\n"),
            "target.yaml:8:3: deployment: unknown field `shown`",
        ),
        (
            format!("{good}deployment: {{image_format_match: sometimes}}\n"),
            "target.yaml:6:34: deployment.image_format_match: invalid type",
        ),
    ];
    for (text, want) in bad {
        let err = TargetFile::load(&write(&text)).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
        assert!(err.contains("target.yaml:"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The schema of case files, generated from the case types (`sharecheck::case_schema`).
fn case_schema() -> jsonschema::Validator {
    jsonschema::validator_for(&sharecheck::case_schema()).expect("a valid JSON schema")
}

/// `docs/case.schema.json` is the generated schema; `SHARECHECK_BLESS=1` rewrites it.
#[test]
fn the_published_case_schema_is_the_generated_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/case.schema.json");
    let generated = serde_json::to_string_pretty(&sharecheck::case_schema()).unwrap() + "\n";
    if std::env::var_os("SHARECHECK_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == generated,
        "{} is stale: the case types changed. Regenerate it with\n  \
         SHARECHECK_BLESS=1 cargo test --test loading the_published_case_schema\nand commit it.",
        path.display()
    );
}

fn violations(schema: &jsonschema::Validator, yaml: &str) -> Vec<String> {
    let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    schema
        .iter_errors(&value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

#[test]
fn every_case_file_validates_against_the_generated_schema() {
    let schema = case_schema();
    let mut files = Vec::new();
    yaml_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("cases"),
        &mut files,
    );
    // Case files live at cases/<operation>/<code>/<name>.yaml; cases/matrix.yaml is the
    // matrix's description, checked by its own loader.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    files.retain(|f| f.parent() != Some(root.as_path()));
    assert!(files.len() > 10, "cases/ holds the bundled cases");
    for f in &files {
        let errs = violations(&schema, &std::fs::read_to_string(f).unwrap());
        assert!(errs.is_empty(), "{}: {errs:#?}", f.display());
    }
    assert!(violations(&schema, GOOD).is_empty());
}

#[test]
fn a_broken_case_fails_the_published_schema() {
    let schema = case_schema();
    let body = |b: &str| format!("  status: 404\n  body: {b}\n");
    for (from, to) in [
        (
            "  status: 404\n",
            "  status: 404\n  bodyy: {kind: empty}\n".to_string(),
        ),
        ("  method: DELETE\n", "  method: FETCH\n".into()),
        ("  as: stranger\n", "  as: nobody\n".into()),
        ("code: 404\n", "code: four\n".into()),
        ("purpose: A test case.\n", String::new()),
        ("  status: 404\n", body("{kind: jason}")),
        ("  status: 404\n", body("{kind: json, keyz: [id]}")),
        ("  status: 404\n", body("{kind: empty, keys: [id]}")),
        ("  status: 404\n", body("{kind: data}")),
        ("  status: 404\n", body("{kind: error, equals: x}")),
        (
            "  status: 404\n",
            body("{kind: json, lengths: {/images: many}}"),
        ),
        (
            "  status: 404\n",
            body("{kind: json, contains: {/images: 3}}"),
        ),
        ("  status: 404\n", body("{kind: json, values: {images: 3}}")),
        (
            "  status: 404\n",
            "  status: 404\n  headers: {Allow: {present: true, equals: x}}\n".into(),
        ),
    ] {
        let broken = GOOD.replace(from, &to);
        assert_ne!(broken, GOOD);
        assert!(
            !violations(&schema, &broken).is_empty(),
            "{to:?} should fail the schema"
        );
    }
    let fine = GOOD.replace("  status: 404\n", &body("{kind: error, schema: image}"));
    assert_eq!(violations(&schema, &fine), Vec::<String>::new());
}

#[test]
fn every_matrix_cell_is_a_case_or_has_a_reason() {
    use sharecheck::MATRIX_COLUMNS;
    use std::collections::{BTreeMap, BTreeSet};
    let suite = Suite::bundled().unwrap();
    // Operation → visibility → cells: one per column.
    let mut rows: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for c in &suite.matrix {
        *rows
            .entry(c.operation.as_str())
            .or_default()
            .entry(c.visibility.as_str())
            .or_default() += 1;
    }
    let on_images: BTreeSet<&str> = suite
        .operations
        .iter()
        .filter(|o| o.path.starts_with("/v2/images") || o.path.contains("{image_id}"))
        .map(|o| o.operation.as_str())
        .collect();
    let image_ops: BTreeSet<&str> = rows
        .iter()
        .filter(|(_, r)| !r.contains_key("any"))
        .map(|(op, _)| *op)
        .collect();
    // Every operation on images (under /v2/images, or naming one elsewhere: a store's copy of
    // its data) has its rows in the matrix, one per visibility; every other
    // operation in it has the one row `any`.
    assert_eq!(image_ops, on_images);
    for (op, r) in &rows {
        let want: Vec<&str> = if image_ops.contains(op) {
            vec!["community", "private", "public", "shared"]
        } else {
            vec!["any"]
        };
        assert_eq!(r.keys().copied().collect::<Vec<_>>(), want, "{op}");
        assert!(
            r.values().all(|n| *n == MATRIX_COLUMNS.len()),
            "{op}: {r:?}"
        );
    }
    let mut cases = 0;
    for cell in &suite.matrix {
        match (&cell.case, &cell.reason) {
            (Some(name), None) => {
                let case = suite
                    .case(name)
                    .unwrap_or_else(|| panic!("no trial {name}"));
                assert_eq!(Some(case.file.code), cell.code);
                assert_eq!(case.file.operation, cell.operation);
                assert_eq!(
                    name,
                    &format!(
                        "{}::{}::matrix_{}_{}",
                        cell.operation, case.file.code, cell.persona, cell.visibility
                    )
                );
                cases += 1;
            }
            (None, Some(reason)) => assert!(!reason.trim().is_empty()),
            other => panic!("cell {cell:?} is both or neither: {other:?}"),
        }
    }
    println!("matrix: {} cells, {cases} cases", suite.matrix.len());
    assert!(cases >= 180, "{cases}");
}

#[test]
fn bad_matrix_entries_name_file_and_line() {
    let spec = "specs/show_image.yaml";
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(spec)).unwrap();
    let line_of = |needle: &str| src.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let show_private = "    private:   [200, no-members, no-members, no-members, no-members, 404, 200, 200, 401, 401]";
    // (text, its replacement, what the error says, the line it names).
    let private = "    private:";
    let checks = [
        // A code that is not in the operation's table.
        (
            show_private,
            show_private.replace("404, 200", "418, 200"),
            "code 418 is not in the table",
            private,
        ),
        // A word that is neither a reason nor a list code.
        (
            show_private,
            show_private.replace("no-members, 404", "no-such, 404"),
            "`no-such`",
            private,
        ),
        // A list code where the probe has no unlisted_check.
        (
            show_private,
            show_private.replace("[200,", "[200+,"),
            "`200+`",
            private,
        ),
        // A row with a missing column.
        (
            show_private,
            show_private.replace(", 401]", "]"),
            "has 9 entries",
            private,
        ),
        // A row of no visibility.
        (
            show_private,
            show_private.replace("private:", "secret: "),
            "needs exactly the rows private, shared, community, public",
            "  rows:",
        ),
        // A probe key the matrix does not know.
        (
            "  image: {}",
            "  imag: {}".to_string(),
            "unknown field `imag`",
            "  image: {}",
        ),
        // A check in the case format that is not one: named at each row it breaks.
        (
            "  check: {kind: json",
            "  check: {kind: jsn".to_string(),
            "unknown variant `jsn`",
            private,
        ),
        // A path parameter without a value.
        (
            "  image: {}",
            "  params: {}".to_string(),
            "`image_id` needs a value under `params`",
            "matrix:",
        ),
    ];
    for (old, new, want, at) in checks {
        let s = Scratch::new("matrix");
        let line = line_of(at);
        let p = s.write(spec, &src.replacen(old, &new, 1));
        let err = s.errors();
        assert!(
            err.contains(&format!("{}:{line}", p.display())) && err.contains(want),
            "{want}: {err}"
        );
    }
    let matrix =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/matrix.yaml"))
            .unwrap();
    let s = Scratch::new("matrix-yaml");
    let p = s.write(
        "cases/matrix.yaml",
        &matrix.replacen("columns:", "colums:", 1),
    );
    let err = s.errors();
    assert!(
        err.contains(&format!("{}:", p.display())) && err.contains("colums"),
        "{err}"
    );
}
