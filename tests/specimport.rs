//! `sharecheck spec import`: documentation pages (RST) become spec YAML the suite loads.
//!
//! The pages under `tests/fixtures/rst/` are invented (a "widget" API) in the documentation's
//! layout: multi-line cells, `*(Required)*` markers, split and nested field names, a page
//! without bodies, a schema-like page, and broken pages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sharecheck::Suite;
use sharecheck::specimport::{Body, Field, Location, import, import_file, parse_page, snake_case};

const BIN: &str = env!("CARGO_BIN_EXE_sharecheck");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rst")
        .join(name)
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

/// A fresh, empty temporary folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sharecheck-specimport-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sharecheck(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run sharecheck")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The error messages for a page, one string per problem.
fn errors_of(name: &str) -> Vec<String> {
    match import_file(&fixture(name), None) {
        Ok(i) => panic!("{name} imported, but should not:\n{}", i.yaml),
        Err(errs) => errs.iter().map(|e| e.to_string()).collect(),
    }
}

fn names(fields: &[Field]) -> Vec<&str> {
    fields.iter().map(|f| f.name.as_str()).collect()
}

// ---------------------------------------------------------------------------------------
// Reading pages.

#[test]
fn the_title_becomes_a_snake_case_operation_name() {
    assert_eq!(snake_case("Frobnicate widget"), "frobnicate_widget");
    assert_eq!(
        snake_case("Get image member  schema"),
        "get_image_member_schema"
    );
    assert_eq!(snake_case("List (v2) images!"), "list_v2_images");
}

#[test]
fn a_page_gives_its_label_title_method_and_v2_path() {
    let page = parse_page(
        &fixture("frobnicate-widget.rst"),
        &fixture_text("frobnicate-widget.rst"),
    )
    .unwrap();
    assert_eq!(page.label, "post-frobnicate-widget");
    assert_eq!(page.title, "Frobnicate widget");
    assert_eq!(page.operation, "frobnicate_widget");
    assert_eq!(page.method, "POST");
    assert_eq!(page.path, "/v2/widgets/{widget_id}/frobs/{frob_name}");
}

#[test]
fn response_codes_join_multi_line_cells_with_spaces() {
    let page = parse_page(
        &fixture("frobnicate-widget.rst"),
        &fixture_text("frobnicate-widget.rst"),
    )
    .unwrap();
    let rows: Vec<(u16, &str, &str)> = page
        .responses
        .iter()
        .map(|c| (c.code, c.name.as_str(), c.meaning.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (202, "Accepted", "The crank turns in the background."),
            // A blank line inside a cell is only a paragraph break.
            (409, "Jammed", "The widget is jammed; unjam it first."),
            // The continuation line carries more of the name, not a new row.
            (429, "Too Many Frobs", "Slow down."),
        ]
    );
    assert_eq!(page.responses[0].line, 20, "a row's line is its first line");
}

#[test]
fn uri_and_query_tables_become_typed_parameters() {
    let page = parse_page(
        &fixture("frobnicate-widget.rst"),
        &fixture_text("frobnicate-widget.rst"),
    )
    .unwrap();
    let params: Vec<(&str, Location, &str, &str)> = page
        .parameters
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.location,
                p.kind.as_str(),
                p.description.as_str(),
            )
        })
        .collect();
    assert_eq!(
        params,
        [
            (
                "widget_id",
                Location::Path,
                "uuid",
                "Which widget, as a UUID."
            ),
            (
                "frob_name",
                Location::Path,
                "string",
                "A label for this frob."
            ),
            // `*(Optional)*` is not part of the type.
            ("dry_run", Location::Query, "string", "Only pretend."),
        ]
    );
}

#[test]
fn body_tables_give_top_level_fields_with_required_markers_and_nested_names() {
    let page = parse_page(
        &fixture("frobnicate-widget.rst"),
        &fixture_text("frobnicate-widget.rst"),
    )
    .unwrap();
    let Body::Fields(request) = &page.request_body else {
        panic!("request body: {:?}", page.request_body);
    };
    // `parameters.\` / `**reason**` split over two lines is one name.
    assert_eq!(names(request), ["turns", "reason", "gears"]);
    let required: Vec<bool> = request.iter().map(|f| f.required).collect();
    assert_eq!(
        required,
        [true, false, true],
        "a marker split onto its own line counts"
    );
    assert_eq!(request[0].description, "How many times: at least one.");
    // `\ ` at the end of a cell line is escaped whitespace, gone in the text.
    assert_eq!(request[1].description, "Says #why the crank turns.");
    // `parameters.gears.\ **label**` is nested in gears, not a field of its own.
    assert_eq!(names(&request[2].nested), ["label", "teeth"]);
    assert!(request[2].nested[0].required);
    assert!(!request[2].nested[1].required);

    let Body::Fields(response) = &page.response_body else {
        panic!("response body: {:?}", page.response_body);
    };
    // `**frobs**\.[]` is the array `frobs`; `knobs` is listed only through a nested row.
    assert_eq!(names(response), ["frobs", "knobs", "next"]);
    assert_eq!(names(&response[0].nested), ["id"]);
    assert!(response[1].implied && !response[1].required);
    assert!(response[1].description.contains("nested"));
    assert_eq!(names(&response[1].nested), ["level"]);
    assert!(!response[0].implied);
}

#[test]
fn the_no_body_sentences_give_none_even_when_wrapped() {
    let page = parse_page(
        &fixture("discard-widget.rst"),
        &fixture_text("discard-widget.rst"),
    )
    .unwrap();
    assert_eq!(page.method, "DELETE");
    assert_eq!(page.path, "/v2/widgets/{widget_id}");
    assert_eq!(page.request_body, Body::None);
    assert_eq!(page.response_body, Body::None);
    // Headings without underline, a note directive, a differently sized table.
    let codes: Vec<u16> = page.responses.iter().map(|c| c.code).collect();
    assert_eq!(codes, [204, 404]);
    assert_eq!(page.parameters.len(), 1);
    assert_eq!(page.parameters[0].kind, "uuid", "UUID is lower-cased");
}

#[test]
fn a_schema_page_has_no_request_body_and_an_unlisted_json_response() {
    let page = parse_page(
        &fixture("widget-schema.rst"),
        &fixture_text("widget-schema.rst"),
    )
    .unwrap();
    assert_eq!(page.path, "/v2/schemas/widget");
    assert!(page.parameters.is_empty());
    assert_eq!(page.request_body, Body::Unstated);
    assert_eq!(
        page.response_body,
        Body::ExampleOnly(vec!["name".to_string(), "properties".to_string()])
    );
    let imported = import_file(&fixture("widget-schema.rst"), None).unwrap();
    assert!(imported.yaml.contains("request_body: none"));
    assert!(
        imported
            .yaml
            .contains("      - name: name\n        required: false"),
        "{}",
        imported.yaml
    );
    assert!(imported.yaml.contains("# The page shows only an example"));
}

#[test]
fn nested_fields_are_yaml_comments_under_their_parent() {
    let imported = import_file(&fixture("frobnicate-widget.rst"), None).unwrap();
    assert!(
        imported.yaml.contains("#   gears.label (required)\n"),
        "{}",
        imported.yaml
    );
    assert!(imported.yaml.contains("#   gears.teeth\n"));
    assert!(imported.yaml.contains("#   knobs.level\n"));
    assert!(!imported.yaml.contains("name: label"));
}

#[test]
fn the_operation_name_can_be_overridden_and_must_be_snake_case() {
    let path = fixture("frobnicate-widget.rst");
    let src = fixture_text("frobnicate-widget.rst");
    let imported = import(&path, &src, Some("crank_widget")).unwrap();
    assert_eq!(imported.spec.operation, "crank_widget");
    assert!(imported.yaml.contains("operation: crank_widget\n"));
    let errs = import(&path, &src, Some("Crank-Widget")).unwrap_err();
    assert!(errs[0].to_string().contains("snake_case"), "{}", errs[0]);
}

// ---------------------------------------------------------------------------------------
// Bad pages: every problem names the file and line.

#[test]
fn a_page_without_a_caret_title_names_the_heading_it_has() {
    let errs = errors_of("bad-no-title.rst");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("bad-no-title.rst:3: no title"),
        "{}",
        errs[0]
    );
}

#[test]
fn a_code_block_without_method_and_path_is_reported_at_its_line() {
    let errs = errors_of("bad-no-method.rst");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("bad-no-method.rst:8: expected `METHOD /path`"),
        "{}",
        errs[0]
    );
}

#[test]
fn a_misaligned_grid_row_is_reported_at_its_line_and_column() {
    let errs = errors_of("bad-grid.rst");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("bad-grid.rst:15: malformed grid table: expected `|` at column 25"),
        "{}",
        errs[0]
    );
}

#[test]
fn every_bad_row_is_reported_not_just_the_first() {
    let errs = errors_of("bad-rows.rst");
    assert_eq!(errs.len(), 2, "no knock-on errors: {errs:?}");
    assert!(
        errs[0].contains("bad-rows.rst:15: response code `4O4` is not a number"),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].contains("bad-rows.rst:25: parameter `widget_id`: unknown type `Float`"),
        "{}",
        errs[1]
    );
}

/// Imports `src` as the page `inline.rst` and returns its errors.
fn inline_errors(src: &str) -> Vec<String> {
    match import(Path::new("inline.rst"), src, None) {
        Ok(i) => panic!("imported, but should not:\n{}", i.yaml),
        Err(errs) => errs.iter().map(|e| e.to_string()).collect(),
    }
}

const HEAD: &str =
    ".. _get-thing:\n\nGet thing\n^^^^^^^^^\n\n.. code::\n\n    GET /things/{thing_id}\n\n";
const CODES: &str = "+----+----+-----------+\n|Response Code|\n";

fn page(codes: &str, request: &str, response: &str) -> String {
    format!("{HEAD}{codes}\nRequest\n\n{request}\nResponse\n\n{response}\n")
}

const GOOD_CODES: &str = "\
+-------------+----+-----------+
|Response Code|Name|Description|
+=============+====+===========+
|200          |OK  |Fine.      |
+-------------+----+-----------+
";

const URI: &str = "\
This table shows the URI parameters for the request:

+----------+------+-----------+
|Name      |Type  |Description|
+==========+======+===========+
|{thing_id}|String|The thing. |
+----------+------+-----------+

This operation does not accept a request body.
";

const NO_BODY: &str = "This operation does not return a response body.";

#[test]
fn the_inline_page_skeleton_imports() {
    let src = page(GOOD_CODES, URI, NO_BODY);
    let imported = import(Path::new("inline.rst"), &src, None).unwrap();
    assert_eq!(imported.spec.path, "/v2/things/{thing_id}");
}

#[test]
fn more_malformed_pages_are_errors_with_lines_never_panics() {
    // Line numbers: HEAD is 9 lines, so the code table starts on line 10.
    let cases: Vec<(String, &str)> = vec![
        // A table with no closing border.
        (
            page(
                GOOD_CODES.trim_end().rsplit_once('\n').unwrap().0,
                URI,
                NO_BODY,
            ),
            "inline.rst:13: malformed grid table: the table ends without a closing border",
        ),
        // A row line narrower than the border.
        (
            page(
                &GOOD_CODES.replace("|200          |", "|200        |"),
                URI,
                NO_BODY,
            ),
            "inline.rst:13: malformed grid table: the line is 30 characters wide, the top border 32",
        ),
        // A code outside the HTTP range.
        (
            page(&GOOD_CODES.replace("|200 ", "|999 "), URI, NO_BODY),
            "inline.rst:13: `999` is not an HTTP status code",
        ),
        // No header separator.
        (
            page(&GOOD_CODES.replace('=', "-"), URI, NO_BODY),
            "inline.rst:10: malformed grid table: no header row",
        ),
        // A code table with the wrong columns.
        (
            page(CODES, URI, NO_BODY),
            "inline.rst:11: malformed grid table: the line is 15 characters wide",
        ),
        // A URI row that is not in the path.
        (
            page(
                GOOD_CODES,
                &URI.replace("{thing_id}|", "{thing_ix}|"),
                NO_BODY,
            ),
            "inline.rst:23: URI parameter `{thing_ix}` does not occur in the path",
        ),
        // A body table and the no-body sentence both.
        (
            page(
                GOOD_CODES,
                URI,
                &format!(
                    "This table shows the body parameters for the response:\n\n\
                     +--------------------+------+-----------+\n\
                     |Name                |Type  |Description|\n\
                     +====================+======+===========+\n\
                     |parameters.\\ **id** |String|The id.    |\n\
                     +--------------------+------+-----------+\n\n{NO_BODY}"
                ),
            ),
            "inline.rst:32: a response body table, but line 38 says there is no response body",
        ),
        // A Response section that says nothing.
        (
            page(GOOD_CODES, URI, ""),
            "inline.rst:28: the Response section neither lists body fields",
        ),
        // No Response heading at all.
        (
            format!("{HEAD}{GOOD_CODES}\nRequest\n\n{URI}"),
            "inline.rst:26: reached the end of the page without a `Response` section heading",
        ),
        // A table row with no border above it.
        (
            page(
                GOOD_CODES,
                &format!("|{{thing_id}}|String|\n{URI}"),
                NO_BODY,
            ),
            "inline.rst:18: malformed grid table: a table row with no `+---+` border above it",
        ),
        // An unknown method.
        (
            page(GOOD_CODES, URI, NO_BODY).replace("GET /things", "FETCH /things"),
            "inline.rst:8: unknown method `FETCH`",
        ),
        // No label.
        (
            page(GOOD_CODES, URI, NO_BODY).replace(".. _get-thing:", ""),
            "inline.rst:3: no `.. _label:` line",
        ),
        // Two rows for one code.
        (
            page(
                &format!(
                    "{GOOD_CODES}|200          |OK  |Again.     |\n+-------------+----+-----------+\n"
                ),
                URI,
                NO_BODY,
            ),
            "inline.rst:15: code 200 appears twice",
        ),
    ];
    for (src, want) in cases {
        let errs = inline_errors(&src);
        assert!(
            errs.iter().any(|e| e.contains(want)),
            "want {want:?}, got {errs:?} for\n{src}"
        );
    }
    // Text that is no page at all.
    for src in [
        "",
        "\n\n",
        "^^^^\n",
        "+--+\n|x|\n",
        "Title\n^^^^^\n.. code::\n",
    ] {
        assert!(!inline_errors(src).is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// The round trip through the suite's loader.

#[test]
fn imported_specs_load_with_the_suite_loader() {
    let root = temp_dir("roundtrip");
    std::fs::create_dir_all(root.join("specs")).unwrap();
    std::fs::create_dir_all(root.join("cases")).unwrap();
    for page in [
        "frobnicate-widget.rst",
        "discard-widget.rst",
        "widget-schema.rst",
    ] {
        let imported = import_file(&fixture(page), None).unwrap();
        let file = root
            .join("specs")
            .join(format!("{}.yaml", imported.page.operation));
        std::fs::write(file, &imported.yaml).unwrap();
    }
    let suite = Suite::from_dir(&root).unwrap_or_else(|e| panic!("{e}"));
    let ops: Vec<&str> = suite
        .operations
        .iter()
        .map(|o| o.operation.as_str())
        .collect();
    assert_eq!(
        ops,
        ["discard_widget", "frobnicate_widget", "get_widget_schema"]
    );

    let frob = &suite.operations[1];
    assert_eq!(frob.title, "Frobnicate widget");
    assert_eq!(frob.source, "doc:post-frobnicate-widget");
    assert_eq!(frob.method, "POST");
    assert_eq!(frob.path, "/v2/widgets/{widget_id}/frobs/{frob_name}");
    assert_eq!(frob.parameters.len(), 3);
    assert_eq!(frob.parameters[0].name, "widget_id");
    assert_eq!(frob.parameters[0].description, "Which widget, as a UUID.");
    let codes: Vec<(u16, &str)> = frob
        .responses
        .iter()
        .map(|r| (r.code, r.meaning.as_str()))
        .collect();
    assert_eq!(codes[1], (409, "The widget is jammed; unjam it first."));
    assert!(frob.responses.iter().all(|r| r.documented));
    // Body shapes are not public outside the loader; their Debug form shows what loaded.
    let request = format!("{:?}", frob.request_body);
    for want in [
        "\"turns\"",
        "\"reason\"",
        "\"gears\"",
        "How many times: at least one.",
    ] {
        assert!(request.contains(want), "{want} in {request}");
    }
    assert!(
        !request.contains("\"label\""),
        "nested names stay out: {request}"
    );
    let discard = &suite.operations[0];
    assert!(format!("{:?}", discard.request_body).contains("\"none\""));
    assert!(format!("{:?}", discard.response_body).contains("\"none\""));
    let schema = &suite.operations[2];
    let shape = format!("{:?}", schema.response_body);
    assert!(
        shape.contains("name: \"name\"") && shape.contains("name: \"properties\""),
        "{shape}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

// ---------------------------------------------------------------------------------------
// The command.

#[test]
fn the_command_prints_one_document_per_page_separated_by_dashes() {
    let out = sharecheck(&[
        "spec",
        "import",
        fixture("frobnicate-widget.rst").to_str().unwrap(),
        fixture("discard-widget.rst").to_str().unwrap(),
        fixture("widget-schema.rst").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let docs: Vec<&str> = stdout.split("\n---\n").collect();
    assert_eq!(docs.len(), 3, "{stdout}");
    assert!(docs[0].contains("operation: frobnicate_widget\n"));
    assert!(docs[1].contains("operation: discard_widget\n"));
    assert!(docs[2].contains("operation: get_widget_schema\n"));
    assert!(text(&out.stderr).is_empty());
}

#[test]
fn the_command_writes_operation_files_and_refuses_to_overwrite() {
    let dir = temp_dir("out");
    let out_dir = dir.join("specs");
    let page = fixture("discard-widget.rst");
    let args = [
        "spec",
        "import",
        page.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let out = sharecheck(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = out_dir.join("discard_widget.yaml");
    let yaml = std::fs::read_to_string(&written).unwrap();
    assert!(yaml.contains("source: doc:delete-discard-widget\n"));
    assert!(text(&out.stdout).contains("discard_widget.yaml"));

    std::fs::write(&written, "# curated by hand\n").unwrap();
    let again = sharecheck(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("exists; pass --force"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&written).unwrap(),
        "# curated by hand\n"
    );

    let forced = sharecheck(&[&args[..], &["--force"]].concat());
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert_eq!(std::fs::read_to_string(&written).unwrap(), yaml);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_command_renames_one_page_with_operation() {
    let page = fixture("discard-widget.rst");
    let out = sharecheck(&[
        "spec",
        "import",
        page.to_str().unwrap(),
        "--operation",
        "delete_widget",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("operation: delete_widget\n"));

    let two = sharecheck(&[
        "spec",
        "import",
        page.to_str().unwrap(),
        fixture("widget-schema.rst").to_str().unwrap(),
        "--operation",
        "delete_widget",
    ]);
    assert_eq!(two.status.code(), Some(2));
    assert!(text(&two.stderr).contains("exactly one page"));
}

#[test]
fn bad_pages_exit_2_with_file_and_line_and_write_nothing() {
    let dir = temp_dir("bad");
    let out = sharecheck(&[
        "spec",
        "import",
        fixture("discard-widget.rst").to_str().unwrap(),
        fixture("bad-grid.rst").to_str().unwrap(),
        fixture("bad-rows.rst").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad-grid.rst:15: "), "{stderr}");
    assert!(stderr.contains("bad-rows.rst:15: "), "{stderr}");
    assert!(stderr.contains("bad-rows.rst:25: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "all or nothing"
    );

    let missing = sharecheck(&["spec", "import", "no-such-page.rst"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no-such-page.rst: cannot read"));

    let none = sharecheck(&["spec", "import"]);
    assert_eq!(none.status.code(), Some(2), "clap's usage error");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_pages_with_one_title_are_an_error() {
    let page = fixture("discard-widget.rst");
    let out = sharecheck(&[
        "spec",
        "import",
        page.to_str().unwrap(),
        page.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("operation `discard_widget` is also imported from"));
}

// ---------------------------------------------------------------------------------------
// The api-ref format (`.inc` sections and their parameter files).

fn apiref(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/apiref")
        .join(name)
}

#[test]
fn an_api_ref_file_gives_one_spec_per_operation_section() {
    let imported =
        sharecheck::specimport::import_inc_file(&apiref("widgets.inc"), None).expect("imports");
    let pages: Vec<_> = imported.iter().map(|i| &i.page).collect();
    let ops: Vec<&str> = pages.iter().map(|p| p.operation.as_str()).collect();
    assert_eq!(ops, ["show_widget", "make_widget", "drop_widget"]);

    let show = pages[0];
    assert_eq!(show.source, "api-ref:widgets.inc#show-widget");
    assert_eq!(show.since.as_deref(), Some("2.7"));
    assert_eq!(
        (show.method.as_str(), show.path.as_str()),
        ("GET", "/v2/widgets/{widget_id}")
    );
    let params: Vec<(&str, Location, &str)> = show
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.location, p.kind.as_str()))
        .collect();
    // the header is left out; a boolean query parameter is a string to the spec
    assert_eq!(
        params,
        [
            ("widget_id", Location::Path, "string"),
            ("verbose", Location::Query, "string")
        ]
    );
    assert_eq!(show.parameters[0].description, "Which widget.");
    let codes: Vec<u16> = show.responses.iter().map(|c| c.code).collect();
    assert_eq!(codes, [200, 401, 404]);
    assert_eq!(show.responses[2].name, "Not Found");
    // no response parameters: the sample's top-level keys
    match &show.response_body {
        Body::ExampleOnly(keys) => {
            let mut keys = keys.clone();
            keys.sort();
            assert_eq!(keys, ["links", "widget"]);
        }
        other => panic!("{other:?}"),
    }

    let make = pages[1];
    assert_eq!(
        make.path, "/v2/widgets",
        "the method on its own line is read"
    );
    match (&make.request_body, &make.response_body) {
        (Body::Fields(req), Body::Fields(resp)) => {
            assert_eq!(names(req), ["name", "size"]);
            assert!(req[0].required && !req[1].required);
            assert_eq!(names(resp), ["id", "name"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(pages[2].response_body, Body::None, "204 only: no body");
    assert!(
        imported[0].yaml.contains("since: \"2.7\"\n"),
        "{}",
        imported[0].yaml
    );
    assert!(
        imported[0]
            .yaml
            .contains("source: api-ref:widgets.inc#show-widget\n")
    );
}

#[test]
fn an_api_ref_section_that_cannot_be_read_fully_is_refused_with_its_line() {
    let errs: Vec<String> =
        match sharecheck::specimport::import_inc_file(&apiref("broken.inc"), None) {
            Ok(_) => panic!("broken.inc imported"),
            Err(errs) => errs.iter().map(|e| e.to_string()).collect(),
        };
    let all = errs.join("\n");
    for want in [
        "broken.inc:8: `4x1` is not a status code",
        "broken.inc:15: `no-such-entry` is not an entry of widgets-parameters.yaml",
        "broken.inc:20: expected `.. rest_method:: METHOD /path`",
        "broken.inc:27: `Tally widgets` lists no normal response codes",
    ] {
        assert!(all.contains(want), "want {want}, got:\n{all}");
    }
}

#[test]
fn the_cli_imports_api_ref_files_beside_seed_pages() {
    let out = sharecheck(&["spec", "import", apiref("widgets.inc").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert_eq!(
        yaml.matches("\noperation: ").count() + usize::from(yaml.starts_with("operation: ")),
        3,
        "{yaml}"
    );
    let out = sharecheck(&[
        "spec",
        "import",
        "--operation",
        "x",
        apiref("widgets.inc").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("this file holds 3"),
        "{}",
        text(&out.stderr)
    );
}
