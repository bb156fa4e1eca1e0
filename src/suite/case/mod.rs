//! Cases as data (`cases/<operation>/<code>/<name>.yaml`): set-up, one request, the expected
//! answer, and follow-up checks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub(crate) mod checks;
mod locate;
mod problems;
mod schema;
mod validate;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use checks::body::{Lengths, Values};
pub use checks::{BodyExpect, BodyKind, Expect};
use locate::Node;
pub use schema::case_schema;
use validate::Validation;

use super::spec::Operation;
use crate::error::DataError;
use crate::target::Need;

/// The personas a case may name, and those every target has: the target layer's lists.
pub use crate::target::{PERSONAS, REQUIRED_PERSONAS};

/// One case, as loaded and validated.
#[derive(Clone, Debug)]
pub struct Case {
    /// `<operation>::<code>::<name>`; the trial name.
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    /// Everything the file says.
    pub file: CaseFile,
    /// Everything the target must offer: what `requires` says, the optional personas it
    /// names, quotas, the API version of its operation (`since`), the stores its
    /// placeholders name.
    pub needs: BTreeSet<Need>,
}

/// The YAML form of a case.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "sharecheck case")]
pub struct CaseFile {
    /// Stable id, unique in the suite (kebab-case).
    #[schemars(regex(pattern = r"^[a-z0-9-]+$"))]
    pub id: String,
    /// The spec operation this case cites (the first folder of its path).
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub operation: String,
    /// The row of that operation's table this case checks (the second folder).
    #[schemars(range(min = 100, max = 599))]
    pub code: u16,
    /// One line: what the case shows.
    #[schemars(regex(pattern = r"^[^\n]*\S[^\n]*$"))]
    pub purpose: String,
    /// What the target must offer, in the closed vocabulary of needs (docs/cases.md):
    /// a capability (`fault-injection`), an optional persona, a quota, `api:2.N`,
    /// `import-method:<name>`, `stores`, `multiple-stores`, `http-store`, `cache`,
    /// `locations-shown`, `locations-hidden`, `image-format-match`, `default-import-filter`,
    /// `unified-limits`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::needs")]
    pub requires: Vec<String>,
    /// The case changes what every other case may rely on (it empties the image cache):
    /// it runs while no other case does.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alone: bool,
    /// What must exist before the request.
    #[serde(default, skip_serializing_if = "Setup::is_empty")]
    pub setup: Setup,
    /// Requests to send after set-up and before the request under test, each checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<Step>,
    /// The request under test.
    pub request: Request,
    /// What must come back.
    pub expect: Expect,
    /// Follow-up requests and their expectations, run in order after the main one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<Step>,
}

/// Images to create before the request, by placeholder name.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Name → image. The name is usable as `{name}` in paths and bodies.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = schema::image_names()))]
    pub images: BTreeMap<String, ImageSetup>,
    /// Name → task body (placeholders allowed), created by the admin after the images; the
    /// name is usable as `{name}`, the task's id. Tasks cannot be deleted: they expire.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = schema::snake()))]
    pub tasks: BTreeMap<String, serde_json::Value>,
    /// Name → metadata definition namespace, created by the admin after the tasks; the name
    /// is usable as `{name}`, the namespace's name (`sharecheck-<run id>-<random>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = schema::snake()))]
    pub namespaces: BTreeMap<String, NamespaceSetup>,
}

/// A metadata definition namespace to create (and delete at the end).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamespaceSetup {
    /// `public` (default) or `private`.
    #[serde(default = "public")]
    #[schemars(schema_with = "schema::namespace_visibility")]
    pub visibility: String,
    /// The persona whose project owns it (default: the admin's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Create it protected (clean-up unprotects it before deleting it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub protected: bool,
    /// Objects to define in it, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<String>,
    /// Tags to define in it, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Properties to define in it (each titled by its name, of type string), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
    /// Resource types to associate it with, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_types: Vec<String>,
}

fn public() -> String {
    "public".into()
}

/// An image to create.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageSetup {
    /// The image's name (placeholders allowed); by default
    /// `sharecheck-<run id>-<case id>-<image>`. Give several images one name, unique to the
    /// run (e.g. `sharecheck-{run_id}-{random_uuid}`), to find exactly them with `?name=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^sharecheck-\{run_id\}-"))]
    pub name: Option<String>,
    /// `private`, `shared` (default), `community` or `public`. Public images are created by
    /// the admin on behalf of the owner (only admins may publish).
    #[serde(default = "shared")]
    #[schemars(schema_with = "schema::image_visibility")]
    pub visibility: String,
    /// Members to add (persona → status reached: pending, accepted or rejected).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "schema::members")]
    pub members: BTreeMap<String, String>,
    /// Add placeholder projects until the member quota is reached.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fill_to_quota: bool,
    /// Create the image protected (clean-up unprotects it before deleting it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub protected: bool,
    /// Tags the image is created with (placeholders allowed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Create the image with filler tags up to the target's tag quota.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fill_tags_to_quota: bool,
    /// Delete the image again at the end of set-up.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// The image's disk format (`raw` when `data` is given without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_format: Option<String>,
    /// The image's container format (`bare` when `data` is given without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_format: Option<String>,
    /// Data to upload once the image exists (placeholders allowed): the image is `active`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Deactivate the image after its data is uploaded (needs `data`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub deactivated: bool,
}

fn shared() -> String {
    "shared".into()
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Setup {
    fn is_empty(&self) -> bool {
        self.images.is_empty() && self.tasks.is_empty() && self.namespaces.is_empty()
    }
}

/// One HTTP request.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("not" = {"required": ["body", "raw_body"]}))]
pub struct Request {
    /// Who sends it: a persona, `anonymous` (no token), `empty_token` or `bad_token`.
    #[serde(rename = "as")]
    #[schemars(schema_with = "schema::callers")]
    pub caller: String,
    /// HTTP method.
    #[schemars(schema_with = "schema::methods")]
    pub method: String,
    /// Path with `{placeholders}`.
    #[schemars(regex(pattern = "^/"))]
    pub path: String,
    /// Extra headers (placeholders allowed in values).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON body (string values may hold placeholders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// A body sent byte for byte, for malformed input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<String>,
    /// Send the request again until a status comes back (e.g. a rate limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Repeat")]
    pub repeat: Option<Repeat>,
    /// Send the request again until the whole expectation holds (an answer that a server
    /// reaches a moment later, like an import finishing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Poll")]
    pub poll: Option<Poll>,
    /// Send the persona's token in this header instead of `X-Auth-Token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "TokenIn")]
    pub token_in: Option<TokenIn>,
}

/// Where a persona's token goes instead of `X-Auth-Token`, e.g. `Authorization: Bearer …`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    /// The header name.
    pub header: String,
    /// What comes before the token in its value (e.g. `"Bearer "`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
}

/// Repetition of a request until a status appears.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    /// The status that stops the repetition (`expect.status`).
    #[schemars(range(min = 100, max = 599))]
    pub until: u16,
    /// At most this many attempts.
    #[schemars(range(min = 1, max = 10_000))]
    pub max: u32,
}

/// Repetition of a request until its expectation holds, with a pause between attempts.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    /// At most this many attempts.
    #[schemars(range(min = 1, max = 600))]
    pub max: u32,
    /// Milliseconds between two attempts.
    #[schemars(range(max = 1000))]
    pub pause_ms: u64,
}

/// A follow-up request.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The request.
    pub request: Request,
    /// Its expected answer.
    pub expect: Expect,
    /// Placeholders it defines for the steps after it: name → JSON pointer of a string or
    /// number in its answer's body, read once the answer meets `expect`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub save: BTreeMap<String, String>,
}

/// Callers that are not personas.
pub const PSEUDO_CALLERS: &[&str] = &["anonymous", "empty_token", "bad_token"];
/// Placeholders that are not images or personas.
/// `{tags_past_quota}`, as a whole JSON string value, becomes a list of one tag more than
/// the target's tag quota; `{uuid_1}` < `{uuid_2}` < `{uuid_3}` are ids in ascending order.
/// The target's facts fill `{default_store}`, `{other_store}` (a store that takes data and is
/// not the default), `{read_only_store}` (a store that takes none), `{import_methods}` (as a whole JSON string value: the list of
/// import methods the target offers) and `{import_source}` (a source URL its import filter
/// admits).
pub const SPECIAL_PLACEHOLDERS: &[&str] = &[
    "default_store",
    "other_store",
    "read_only_store",
    "import_methods",
    "import_source",
    "random_uuid",
    "random_project",
    "run_id",
    "tags_past_quota",
    "uuid_1",
    "uuid_2",
    "uuid_3",
];
/// Every image a case names must start with this, so that clean-up can find it.
const RUN_PREFIX: &str = "sharecheck-{run_id}-";
const STATUSES: &[&str] = &["pending", "accepted", "rejected"];
const VISIBILITIES: &[&str] = &["private", "shared", "community", "public"];
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Every `{name}` in a string.
pub(crate) fn placeholders(s: &str) -> impl Iterator<Item = &str> {
    s.split('{')
        .skip(1)
        .filter_map(|chunk| chunk.split_once('}').map(|(name, _)| name))
}

impl Case {
    /// Parses and validates one case file. `rel` is its path relative to the cases root,
    /// which must be `<operation>/<code>/<name>.yaml`.
    pub(crate) fn parse(
        path: &Path,
        rel: &Path,
        src: &str,
        ops: &[Operation],
        schemas: &[String],
    ) -> Result<Case, Vec<DataError>> {
        let file: CaseFile =
            serde_yaml::from_str(src).map_err(|e| vec![DataError::yaml(path, &e)])?;
        Case::checked(path, rel, src, file, ops, schemas)
    }

    /// Validates a case built as a value, not read from a file (the matrix's cells): the
    /// checks of [`Case::parse`], its problems without a line of their own.
    pub(crate) fn from_file(
        path: &Path,
        rel: &Path,
        file: CaseFile,
        ops: &[Operation],
        schemas: &[String],
    ) -> Result<Case, Vec<DataError>> {
        Case::checked(path, rel, "", file, ops, schemas)
    }

    /// The load-time checks of `file` (text `src`, for the lines of its problems).
    fn checked(
        path: &Path,
        rel: &Path,
        src: &str,
        file: CaseFile,
        ops: &[Operation],
        schemas: &[String],
    ) -> Result<Case, Vec<DataError>> {
        let mut checks = Validation::new(path, src, schemas);
        let stem = checks.place(&file, rel);
        checks.header(&file, ops);
        checks.requires(&file);
        checks.since(&file, ops);
        checks.setup(&file);
        checks.saves(&file);
        for (node, step) in file.steps() {
            checks.step(&file, &node, step);
        }
        if !checks.errs.is_empty() {
            return Err(checks.errs);
        }
        Ok(Case {
            name: format!("{}::{}::{}", file.operation, file.code, stem),
            path: path.to_path_buf(),
            file,
            needs: checks.needs,
        })
    }
}

impl CaseFile {
    /// Every request with its expected answer, in the order they run (`before`, the request
    /// under test, `then`), with the node holding each.
    /// Whether a `before` or `then` step saves the placeholder `name`.
    pub(crate) fn saved(&self, name: &str) -> bool {
        self.before
            .iter()
            .chain(&self.then)
            .any(|s| s.save.contains_key(name))
    }

    fn steps(&self) -> impl Iterator<Item = (Node, (&Request, &Expect))> {
        let root = Node::root();
        let before = self.before.iter().enumerate().map({
            let root = root.clone();
            move |(i, s)| (root.at("before").item(i), (&s.request, &s.expect))
        });
        let main = std::iter::once((root.clone(), (&self.request, &self.expect)));
        let then = self
            .then
            .iter()
            .enumerate()
            .map(move |(i, s)| (root.at("then").item(i), (&s.request, &s.expect)));
        before.chain(main).chain(then)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Suite;

    /// Every bundled case (matrix cells too), serialized, fits the generated schema and loads
    /// back the same.
    #[test]
    fn a_serialized_case_loads_back_equal() {
        let suite = Suite::bundled().expect("bundled suite loads");
        let schemas: Vec<String> = suite.schemas.keys().cloned().collect();
        assert!(!suite.cases.is_empty());
        let schema = jsonschema::validator_for(&case_schema()).unwrap();
        for case in &suite.cases {
            let yaml = serde_yaml::to_string(&case.file).expect("serializes");
            let value: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
            assert!(schema.is_valid(&value), "{}: not valid:\n{yaml}", case.name);
            // Matrix cells come from one file; as case files they live at their trial's path.
            let rel = PathBuf::from(format!("{}.yaml", case.name.replace("::", "/")));
            let back = Case::parse(&case.path, &rel, &yaml, &suite.operations, &schemas)
                .unwrap_or_else(|e| panic!("{}: {e:?}\n{yaml}", case.name));
            assert_eq!(back.file, case.file, "{}:\n{yaml}", case.name);
            assert_eq!(back.name, case.name);
            assert_eq!(back.needs, case.needs);
        }
    }

    /// A step's `save` needs a new snake_case name and a JSON pointer; what it saves is a
    /// known placeholder for the steps after it.
    #[test]
    fn saved_placeholders_are_checked_and_known() {
        let suite = Suite::bundled().expect("bundled suite loads");
        let schemas: Vec<String> = suite.schemas.keys().cloned().collect();
        let load = |save: &str| {
            let text = format!(
                "id: t\noperation: list_images\ncode: 200\npurpose: A test.\nrequest: {{as: owner, method: GET, path: /v2/images}}\nexpect: {{status: 200}}\nthen:\n  - request: {{as: owner, method: GET, path: /v2/images}}\n    expect: {{status: 200}}\n    save: {save}\n  - request: {{as: owner, method: GET, path: \"/v2/images/{{first}}\"}}\n    expect: {{status: 200}}\n"
            );
            let rel = Path::new("list_images/200/t.yaml");
            match Case::parse(rel, rel, &text, &suite.operations, &schemas) {
                Ok(_) => String::new(),
                Err(errs) => errs.iter().map(|e| format!("{e}\n")).collect(),
            }
        };
        assert_eq!(load("{first: /images/0/id}"), "");
        let unknown = load("{other: /images/0/id}");
        assert!(
            unknown.contains("unknown placeholder `{first}`"),
            "{unknown}"
        );
        let bad = load("{first: images/0/id, owner: /x}");
        assert!(
            bad.contains("10:19: save `first`: `images/0/id` is not a JSON pointer"),
            "{bad}"
        );
        assert!(
            bad.contains("save `owner`: a new snake_case placeholder name"),
            "{bad}"
        );
    }
}
