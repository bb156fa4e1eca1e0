//! Each check kind refused where it is wrong (with its line and column), and failing with
//! its own words on an answer that does not fit.

use std::collections::HashMap;
use std::path::Path;

use http::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::{Expect, Vars};
use crate::suite::Suite;
use crate::suite::case::Case;
use crate::suite::schema::Schema;
use crate::target::Answer;

/// A case of `delete_image_member` 404 whose `expect` is `expect` (YAML, indented by two).
fn case(expect: &str) -> String {
    format!(
        "id: t\noperation: delete_image_member\ncode: 404\npurpose: A test.\nrequest:\n  as: stranger\n  method: DELETE\n  path: /v2/images/{{random_uuid}}/members/{{member}}\nexpect:\n  status: 404\n{expect}"
    )
}

/// The load errors of a case with `expect`, as `line:column: message` lines.
fn refusals(expect: &str) -> String {
    let suite = Suite::bundled().unwrap();
    let schemas: Vec<String> = suite.schemas.keys().cloned().collect();
    let rel = Path::new("delete_image_member/404/t.yaml");
    match Case::parse(rel, rel, &case(expect), &suite.operations, &schemas) {
        Ok(_) => String::new(),
        Err(errs) => errs.iter().map(|e| format!("{e}\n")).collect(),
    }
}

#[test]
fn each_check_kind_refuses_what_it_cannot_check() {
    for (expect, want) in [
        ("  status2: 1\n", "unknown field `status2`"),
        (
            "  headers: {Allow: {present: true, equals: x}}\n",
            "11:13: header check `Allow` needs exactly one of",
        ),
        (
            "  body: {kind: empty, keys: [id]}\n",
            "11:23: `keys` needs kind: json, not empty",
        ),
        (
            "  body: {kind: error, only_keys: true}\n",
            "`only_keys` needs kind: json",
        ),
        ("  body: {kind: data}\n", "11:16: kind: data needs `equals`"),
        (
            "  body: {kind: json, equals: x}\n",
            "`equals` needs kind: data, not json",
        ),
        (
            "  body: {kind: empty, schema: image}\n",
            "`schema` needs kind: json or json_list or error",
        ),
        (
            "  body: {kind: json, schema: imag}\n",
            "unknown schema `imag`; known:",
        ),
        (
            "  body: {kind: json, values: {id: 1}}\n",
            "11:31: `id` is not a JSON pointer",
        ),
        (
            "  body: {kind: json, lengths: {a: 1}}\n",
            "`a` is not a JSON pointer",
        ),
        (
            "  body: {kind: json, contains: {/images: 3}}\n",
            "contains `/images`: expected an object",
        ),
        (
            "  body: {kind: json, contains_one: {/images: 3}}\n",
            "contains_one `/images`: expected an object",
        ),
        (
            "  body: {kind: json, lacks: {/images: 3}}\n",
            "lacks `/images`: expected an object",
        ),
        (
            "  body: {kind: json, unique: {images: id}}\n",
            "`images` is not a JSON pointer",
        ),
        (
            "  body: {kind: error, unique: {/images: id}}\n",
            "`unique` needs kind: json or json_list, not error",
        ),
        (
            "  body: {kind: json, values: {/id: \"{imag}\"}}\n",
            "unknown placeholder `{imag}`",
        ),
        (
            "  body: {kind: json, order: {/a: {by: n, set: [x, y]}}}\n",
            "order `/a`: `by` must be a JSON pointer",
        ),
        (
            "  body: {kind: json, order: {/a: {by: /n, set: [x]}}}\n",
            "order `/a`: name at least two items",
        ),
        (
            "  body: {kind: json, order: {/a: {by: /n, set: [x, \"{imag}\"]}}}\n",
            "unknown placeholder `{imag}`",
        ),
        (
            "  body: {kind: json, contains: {/a: [{id: 1}, 2]}}\n",
            "contains `/a`: expected an object",
        ),
        (
            "  body: {kind: json, contains: {/images: {id: \"{imag}\"}}}\n",
            "unknown placeholder `{imag}`",
        ),
        (
            "  body: {kind: data, equals: \"{imag}\"}\n",
            "unknown placeholder `{imag}`",
        ),
        (
            "  headers: {Location: {equals: \"{imag}\"}}\n",
            "unknown placeholder `{imag}`",
        ),
    ] {
        let got = refusals(expect);
        assert!(got.contains(want), "{expect}: want {want:?}, got:\n{got}");
    }
    let fine = "  headers: {Allow: {tokens: [GET]}}\n  body: {kind: json, keys: [id], only_keys: true, values: {/id: \"{member}\"}, lengths: {/a: 1}, contains: {/a: {id: 1}}, schema: member}\n";
    assert_eq!(refusals(fine), "");
}

/// Placeholders `{name}` → `NAME`; the bundled response schemas.
struct Fake(HashMap<String, Schema>);

impl Vars for Fake {
    fn expand(&self, s: &str) -> String {
        s.replace("{member}", "MEMBER")
    }
    fn expand_json(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.expand(s)),
            Value::Object(o) => o
                .iter()
                .map(|(k, x)| (k.clone(), self.expand_json(x)))
                .collect(),
            other => other.clone(),
        }
    }
    fn schema(&self, name: &str) -> Option<&Schema> {
        self.0.get(name)
    }
}

fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Answer {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    Answer {
        status,
        headers: map,
        body: body.as_bytes().to_vec(),
    }
}

/// The problems of `answer` against the expectation `expect` (YAML of `expect:`).
fn problems(expect: &str, answer: &Answer) -> Vec<String> {
    let exp: Expect = serde_yaml::from_str(expect).unwrap();
    let schema = "type: object\nrequired: [id]\n";
    let schema = Schema::parse(Path::new("image.yaml"), schema).unwrap();
    let fake = Fake(HashMap::from([("image".to_string(), schema)]));
    exp.problems(&fake, answer)
}

/// Items `a` before `b`, and `c` (no sort value) at either end.
const ORDER: &str =
    "{status: 200, body: {kind: json, order: {/a: {by: /n, set: [a, b], unset: [c]}}}}";

#[test]
fn each_check_kind_passes_a_fitting_answer_and_words_a_failing_one() {
    let json = |b: &str| answer(200, &[], b);
    let table: &[(&str, Answer, Answer, &str)] = &[
        (
            "status: 200",
            json(""),
            answer(404, &[], ""),
            "expected status 200, got 404",
        ),
        (
            "{status: 200, headers: {Location: {present: true}}}",
            answer(200, &[("location", "/x")], ""),
            json(""),
            "header Location: expected present, got (absent)",
        ),
        (
            "{status: 200, headers: {X-M: {equals: \"{member}\"}}}",
            answer(200, &[("x-m", "MEMBER")], ""),
            answer(200, &[("x-m", "other")], ""),
            "header X-M: expected `MEMBER`, got other",
        ),
        (
            "{status: 200, headers: {Allow: {tokens: [GET, HEAD]}}}",
            answer(200, &[("allow", "head, get")], ""),
            answer(200, &[("allow", "GET")], ""),
            "header Allow: expected exactly [GET, HEAD], got GET",
        ),
        (
            "{status: 200, headers: {Content-Type: {starts_with: application/json}}}",
            answer(200, &[("content-type", "application/json; x")], ""),
            answer(200, &[("content-type", "text/plain")], ""),
            "expected a value starting with `application/json`, got text/plain",
        ),
        (
            "{status: 200, body: {kind: empty}}",
            json(""),
            json("{}"),
            "expected an empty body, got 2 bytes",
        ),
        (
            "{status: 200, body: {kind: json}}",
            json("{}"),
            json("[]"),
            "expected a JSON object body, got other JSON",
        ),
        (
            "{status: 200, body: {kind: error}}",
            json(r#"{"message": "m", "code": "200 OK", "title": "t"}"#),
            json(r#"{"message": "m", "code": "404 Not Found", "title": "t"}"#),
            "error `code` is `404 Not Found`, which does not start with the status 200",
        ),
        (
            "{status: 200, body: {kind: data, equals: abc}}",
            json("abc"),
            json("abd"),
            "expected the 3 bytes abc, got 3 bytes: abd",
        ),
        (
            "{status: 200, body: {kind: json, schema: image}}",
            json(r#"{"id": 1}"#),
            json("{}"),
            "body does not match schema `image`: /: ",
        ),
        (
            "{status: 200, body: {kind: json, keys: [id]}}",
            json(r#"{"id": 1}"#),
            json("{}"),
            "body lacks key `id`",
        ),
        (
            "{status: 200, body: {kind: json, keys: [id], only_keys: true}}",
            json(r#"{"id": 1}"#),
            json(r#"{"id": 1, "x": 2}"#),
            "body has unexpected keys: x",
        ),
        (
            "{status: 200, body: {kind: json, values: {/m: \"{member}\"}}}",
            json(r#"{"m": "MEMBER"}"#),
            json(r#"{"m": "other"}"#),
            r#"body /m: expected "MEMBER", got "other""#,
        ),
        (
            "{status: 200, body: {kind: json, lengths: {/a: 2}}}",
            json(r#"{"a": [1, 2]}"#),
            json(r#"{"a": [1]}"#),
            "body /a: expected 2 items, got 1",
        ),
        (
            "{status: 200, body: {kind: json, lengths: {/a: 2}}}",
            json(r#"{"a": [1, 2]}"#),
            json(r#"{"a": [1, 2, 3]}"#),
            "body /a: expected 2 items, got 3",
        ),
        (
            "{status: 200, body: {kind: json, contains: {/a: {id: \"{member}\"}}}}",
            json(r#"{"a": [{"id": "x"}, {"id": "MEMBER", "y": 1}]}"#),
            json(r#"{"a": [{"id": "x"}]}"#),
            r#"body /a: no item of 1 has {"id":"MEMBER"}"#,
        ),
        (
            "{status: 200, body: {kind: json, contains_one: {/a: {d: \"{member}\"}}}}",
            json(r#"{"a": [{"d": "x"}, {"d": "MEMBER", "y": 1}]}"#),
            json(r#"{"a": [{"d": "MEMBER"}, {"d": "MEMBER"}]}"#),
            r#"body /a: 2 items of 2 have {"d":"MEMBER"}, expected exactly one"#,
        ),
        (
            "{status: 200, body: {kind: json, contains_one: {/a: {d: t}}}}",
            json(r#"{"a": [{"d": "t"}]}"#),
            json(r#"{"a": []}"#),
            r#"body /a: no item of 0 has {"d":"t"}, expected exactly one"#,
        ),
        (
            "{status: 200, body: {kind: json, lacks: {/a: {d: \"{member}\"}}}}",
            json(r#"{"a": [{"d": "x"}, {"d": "y"}]}"#),
            json(r#"{"a": [{"d": "x"}, {"d": "MEMBER", "y": 1}]}"#),
            r#"body /a/1: has {"d":"MEMBER"}, expected no item to have it"#,
        ),
        (
            "{status: 200, body: {kind: json, lacks: {/a: {d: t}}}}",
            json(r#"{"a": []}"#),
            json(r#"{"b": []}"#),
            r#"body /a: expected a list with no item holding {"d":"t"}, got none"#,
        ),
        (
            "{status: 200, body: {kind: json, unique: {/a: id}}}",
            json(r#"{"a": [{"id": "x"}, {"id": "y"}]}"#),
            json(r#"{"a": [{"id": "x"}, {"id": "y"}, {"id": "x"}]}"#),
            r#"body /a: items 0 and 2 share `id` "x""#,
        ),
        (
            "{status: 200, body: {kind: json, unique: {/a: id}}}",
            json(r#"{"a": []}"#),
            json(r#"{"a": [{"id": "x"}, {"name": "y"}]}"#),
            "body /a/1: no `id`",
        ),
        (
            "{status: 200, body: {kind: json, contains: {/a: [{id: x}, {id: y}]}}}",
            json(r#"{"a": [{"id": "y"}, {"id": "x"}]}"#),
            json(r#"{"a": [{"id": "x"}, {"id": "z"}]}"#),
            r#"body /a: no item of 2 has {"id":"y"}"#,
        ),
        (
            ORDER,
            json(r#"{"a": [{"n": "c"}, {"n": "a"}, {"n": "b"}]}"#),
            json(r#"{"a": [{"n": "b"}, {"n": "a"}, {"n": "c"}]}"#),
            "body /a: expected `a` before `b`; got b, a, c",
        ),
        (
            ORDER,
            json(r#"{"a": [{"n": "a"}, {"n": "b"}, {"n": "c"}]}"#),
            json(r#"{"a": [{"n": "a"}, {"n": "c"}, {"n": "b"}]}"#),
            "expected the items without a value (c) together before or after the others",
        ),
        (
            ORDER,
            json(r#"{"a": [{"n": "a"}, {"n": "x"}, {"n": "b"}, {"n": "c"}]}"#),
            json(r#"{"a": [{"n": "a"}, {"n": "b"}]}"#),
            "body /a: `c` is not in the list",
        ),
    ];
    for (expect, good, bad, want) in table {
        assert_eq!(problems(expect, good), Vec::<String>::new(), "{expect}");
        let got = problems(expect, bad);
        assert!(
            got.iter().any(|p| p.contains(want)),
            "{expect}: want {want:?}, got {got:?}"
        );
    }
}
