//! Load-time checks of a case file, each problem pointing at the YAML node it is about. The
//! checks of expectations are validated by their own modules (`checks/`).

use std::path::Path;

use super::locate::Node;
pub(crate) use super::problems::{Text, Validation, json_texts};
use super::{
    CaseFile, Expect, ImageSetup, METHODS, PERSONAS, PSEUDO_CALLERS, REQUIRED_PERSONAS, RUN_PREFIX,
    Request, SPECIAL_PLACEHOLDERS, STATUSES, VISIBILITIES, placeholders,
};
use crate::suite::spec::{Operation, is_snake};
use crate::target::Need;

/// Placeholders filled from what the target was learned to be that only some targets can
/// fill, each with the need it adds to a case using it.
const FACT_NEEDS: &[(&str, Need)] = &[
    ("default_store", Need::Stores),
    ("other_store", Need::MultipleStores),
    ("read_only_store", Need::HttpStore),
];

impl Validation<'_> {
    fn need_persona(&mut self, p: &str) {
        if !REQUIRED_PERSONAS.contains(&p)
            && let Some(n) = Need::parse(p)
        {
            self.needs.insert(n);
        }
    }

    /// The file's place: `<operation>/<code>/<name>.yaml` matching the file; returns the name.
    pub(super) fn place(&mut self, file: &CaseFile, rel: &Path) -> String {
        let root = Node::root();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let stem = rel
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if parts.len() != 3 {
            self.bad(
                &root.at("operation"),
                "a case file must live at cases/<operation>/<code>/<name>.yaml".into(),
            );
        } else {
            if parts[0] != file.operation {
                self.bad(
                    &root.at("operation"),
                    format!(
                        "operation `{}` does not match the folder `{}`",
                        file.operation, parts[0]
                    ),
                );
            }
            if parts[1] != file.code.to_string() {
                self.bad(
                    &root.at("code"),
                    format!(
                        "code {} does not match the folder `{}`",
                        file.code, parts[1]
                    ),
                );
            }
        }
        if !is_snake(&stem) {
            self.bad(
                &root.at("id"),
                format!("file name `{stem}` must be snake_case"),
            );
        }
        stem
    }

    /// Id, purpose, operation and code: well-formed, in the specs, and agreeing.
    pub(super) fn header(&mut self, file: &CaseFile, ops: &[Operation]) {
        let root = Node::root();
        if file.id.is_empty()
            || !file
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            self.bad(
                &root.at("id"),
                format!("id `{}` must be kebab-case (a-z, 0-9, -)", file.id),
            );
        }
        if file.purpose.trim().is_empty() || file.purpose.contains('\n') {
            self.bad(
                &root.at("purpose"),
                "purpose must be one non-empty line".into(),
            );
        }
        match ops.iter().find(|o| o.operation == file.operation) {
            None => self.bad(
                &root.at("operation"),
                format!("operation `{}` is not in specs/", file.operation),
            ),
            Some(op) if op.response(file.code).is_none() => {
                let codes: Vec<String> = op.responses.iter().map(|r| r.code.to_string()).collect();
                self.bad(
                    &root.at("code"),
                    format!(
                        "code {} is not in the table of `{}` ({})",
                        file.code,
                        op.operation,
                        codes.join(", ")
                    ),
                );
            }
            Some(_) => {}
        }
        if file.expect.status != file.code {
            self.bad(
                &root.at("expect").at("status"),
                format!(
                    "the main request expects {} but the case cites code {}",
                    file.expect.status, file.code
                ),
            );
        }
    }

    /// Every word of `requires` is a need of the vocabulary.
    pub(super) fn requires(&mut self, file: &CaseFile) {
        for (i, r) in file.requires.iter().enumerate() {
            match Need::parse(r) {
                Some(n) => {
                    self.needs.insert(n);
                }
                None => self.bad(
                    &Node::root().at("requires").item(i),
                    format!("unknown need `{r}`; known: {}", Need::forms().join(", ")),
                ),
            }
        }
    }

    /// The API version the case's operation appeared in, when its spec says (`since`).
    pub(super) fn since(&mut self, file: &CaseFile, ops: &[Operation]) {
        if let Some((2, minor)) = ops
            .iter()
            .find(|o| o.operation == file.operation)
            .and_then(|o| o.since)
        {
            self.needs.insert(Need::Api(minor));
        }
    }

    /// The set-up images: names, visibilities, members; and the placeholders in their names.
    pub(super) fn setup(&mut self, file: &CaseFile) {
        let images = Node::root().at("setup").at("images");
        for (name, img) in &file.setup.images {
            if !is_snake(name)
                || PERSONAS.contains(&name.as_str())
                || SPECIAL_PLACEHOLDERS.contains(&name.as_str())
            {
                self.bad(
                    &images.key(name),
                    format!(
                        "image name `{name}` must be snake_case and not a persona or special placeholder"
                    ),
                );
            }
            self.image(file, name, img, &images.at(name));
        }
        let tasks = Node::root().at("setup").at("tasks");
        for (name, body) in &file.setup.tasks {
            if !is_snake(name)
                || PERSONAS.contains(&name.as_str())
                || SPECIAL_PLACEHOLDERS.contains(&name.as_str())
                || file.setup.images.contains_key(name)
            {
                self.bad(
                    &tasks.key(name),
                    format!(
                        "task name `{name}` must be snake_case and not a persona, special placeholder or image name"
                    ),
                );
            }
            if !body.is_object() {
                self.bad(
                    &tasks.key(name),
                    format!("task `{name}`: the body must be a JSON object"),
                );
            }
            self.need_persona("admin");
        }
        self.namespaces(file);
    }

    /// The set-up namespaces: names, visibilities, owners.
    fn namespaces(&mut self, file: &CaseFile) {
        let node = Node::root().at("setup").at("namespaces");
        for (name, ns) in &file.setup.namespaces {
            if !is_snake(name)
                || PERSONAS.contains(&name.as_str())
                || SPECIAL_PLACEHOLDERS.contains(&name.as_str())
                || file.setup.images.contains_key(name)
                || file.setup.tasks.contains_key(name)
            {
                self.bad(
                    &node.key(name),
                    format!(
                        "namespace name `{name}` must be snake_case and not a persona, special placeholder, image or task name"
                    ),
                );
            }
            if !["public", "private"].contains(&ns.visibility.as_str()) {
                self.bad(
                    &node.at(name).at("visibility"),
                    format!(
                        "namespace `{name}`: visibility `{}` is not one of public, private",
                        ns.visibility
                    ),
                );
            }
            if let Some(owner) = &ns.owner {
                if PERSONAS.contains(&owner.as_str()) {
                    self.need_persona(owner);
                } else {
                    self.bad(
                        &node.at(name).at("owner"),
                        format!("namespace `{name}`: owner `{owner}` is not a persona"),
                    );
                }
            }
            self.need_persona("admin");
        }
    }

    fn image(&mut self, file: &CaseFile, name: &str, img: &ImageSetup, node: &Node) {
        if let Some(n) = &img.name {
            if !n.starts_with(RUN_PREFIX) {
                self.bad(
                    &node.at("name"),
                    format!("image name `{n}` must start with `{RUN_PREFIX}` so clean-up finds it"),
                );
            }
            self.known_placeholders(file, &[Text::new(node.at("name"), n)]);
        }
        if !VISIBILITIES.contains(&img.visibility.as_str()) {
            self.bad(
                &node.at("visibility"),
                format!(
                    "visibility `{}` is not one of {}",
                    img.visibility,
                    VISIBILITIES.join(", ")
                ),
            );
        }
        if img.visibility == "public" {
            self.need_persona("admin");
        }
        if img.visibility != "shared" && (!img.members.is_empty() || img.fill_to_quota) {
            let what = if img.members.is_empty() {
                "fill_to_quota"
            } else {
                "members"
            };
            self.bad(
                &node.key(what),
                format!("image `{name}`: only shared images have members"),
            );
        }
        if img.deactivated && img.data.is_none() {
            self.bad(
                &node.key("deactivated"),
                format!("image `{name}`: only an image with data can be deactivated"),
            );
        }
        if img.fill_to_quota {
            self.needs.insert(Need::MemberQuota);
        }
        if img.fill_tags_to_quota {
            self.needs.insert(Need::TagQuota);
        }
        let members = node.at("members");
        for (p, status) in &img.members {
            if !PERSONAS.contains(&p.as_str()) || p == "owner" {
                self.bad(
                    &members.key(p),
                    format!(
                        "member `{p}` must be a persona other than owner: {}",
                        PERSONAS[1..].join(", ")
                    ),
                );
            }
            self.need_persona(p);
            if !STATUSES.contains(&status.as_str()) {
                self.bad(
                    &members.at(p),
                    format!(
                        "member status `{status}` is not one of {}",
                        STATUSES.join(", ")
                    ),
                );
            }
        }
    }

    /// One request and its expected answer; `node` is the step (holding `request` and
    /// `expect`), or the root for the request under test.
    pub(super) fn step(&mut self, file: &CaseFile, node: &Node, (req, exp): (&Request, &Expect)) {
        let (rn, en) = (node.at("request"), node.at("expect"));
        self.request(req, exp, &rn);
        exp.validate(self, &en);
        let mut texts = request_texts(req, &rn);
        texts.extend(exp.texts(&en));
        self.known_placeholders(file, &texts);
    }

    /// What the `before` and `then` steps save: new snake_case names, JSON pointers.
    pub(super) fn saves(&mut self, file: &CaseFile) {
        let steps = [("before", &file.before), ("then", &file.then)];
        for (key, list) in steps {
            for (i, step) in list.iter().enumerate() {
                let at = Node::root().at(key).item(i).at("save");
                for (name, ptr) in &step.save {
                    let taken = PERSONAS.contains(&name.as_str())
                        || SPECIAL_PLACEHOLDERS.contains(&name.as_str())
                        || file.setup.images.contains_key(name)
                        || file.setup.tasks.contains_key(name)
                        || file.setup.namespaces.contains_key(name);
                    if !is_snake(name) || taken {
                        self.bad(
                            &at.key(name),
                            format!("save `{name}`: a new snake_case placeholder name is needed"),
                        );
                    }
                    if !ptr.starts_with('/') {
                        self.bad(
                            &at.at(name),
                            format!("save `{name}`: `{ptr}` is not a JSON pointer (start with /)"),
                        );
                    }
                }
            }
        }
    }

    fn request(&mut self, req: &Request, exp: &Expect, rn: &Node) {
        let caller = req.caller.as_str();
        if PERSONAS.contains(&caller) {
            self.need_persona(caller);
        } else if !PSEUDO_CALLERS.contains(&caller) {
            self.bad(
                &rn.at("as"),
                format!(
                    "caller `{}` is not one of {}, {}",
                    req.caller,
                    PERSONAS.join(", "),
                    PSEUDO_CALLERS.join(", ")
                ),
            );
        }
        if !METHODS.contains(&req.method.as_str()) {
            self.bad(
                &rn.at("method"),
                format!(
                    "method `{}` is not one of {}",
                    req.method,
                    METHODS.join(", ")
                ),
            );
        }
        if !req.path.starts_with('/') {
            self.bad(
                &rn.at("path"),
                format!("path `{}` must start with /", req.path),
            );
        }
        if req.method == "POST" && req.path.trim_end_matches('/') == "/v2/images" {
            let name = req
                .body
                .as_ref()
                .and_then(|b| b.get("name"))
                .and_then(|n| n.as_str());
            if !name.is_some_and(|n| n.starts_with(RUN_PREFIX)) {
                let at = match name {
                    Some(_) => rn.at("body").at("name"),
                    None => rn.at("path"),
                };
                self.bad(
                    &at,
                    format!(
                        "an image a case creates must be named `{RUN_PREFIX}…` so clean-up finds it"
                    ),
                );
            }
        }
        if req.token_in.is_some()
            && ["anonymous", "empty_token", "bad_token"].contains(&req.caller.as_str())
        {
            self.bad(
                &rn.key("token_in"),
                "`token_in` moves a persona's token; `as` must name a persona".into(),
            );
        }
        if req.body.is_some() && req.raw_body.is_some() {
            self.bad(
                &rn.key("raw_body"),
                "give `body` or `raw_body`, not both".into(),
            );
        }
        if let Some(r) = &req.repeat
            && (r.max == 0 || r.max > 10_000 || r.until != exp.status)
        {
            self.bad(
                &rn.key("repeat"),
                "repeat.max must be 1..=10000 and repeat.until must equal expect.status".into(),
            );
        }
        if let Some(p) = &req.poll
            && (p.max == 0 || p.max > 600 || p.pause_ms > 1000 || req.repeat.is_some())
        {
            self.bad(
                &rn.key("poll"),
                "poll.max must be 1..=600 and poll.pause_ms at most 1000, and a request has poll or repeat, not both".into(),
            );
        }
    }

    /// Every placeholder is a set-up image, a persona (then needed) or a special one.
    fn known_placeholders(&mut self, file: &CaseFile, texts: &[Text]) {
        for t in texts {
            for ph in placeholders(&t.text) {
                if ph == "tags_past_quota" {
                    self.needs.insert(Need::TagQuota);
                }
                if let Some((_, need)) = FACT_NEEDS.iter().find(|(n, _)| *n == ph) {
                    self.needs.insert(*need);
                }
                if file.setup.images.contains_key(ph)
                    || file.saved(ph)
                    || file.setup.tasks.contains_key(ph)
                    || file.setup.namespaces.contains_key(ph)
                    || SPECIAL_PLACEHOLDERS.contains(&ph)
                {
                    continue;
                }
                if PERSONAS.contains(&ph) {
                    self.need_persona(ph);
                    continue;
                }
                self.bad(
                    &t.node,
                    format!(
                        "unknown placeholder `{{{ph}}}`: not a set-up image, persona or one of {}",
                        SPECIAL_PLACEHOLDERS.join(", ")
                    ),
                );
            }
        }
    }
}

/// The strings of a request that may hold placeholders, each with its node.
fn request_texts(req: &Request, rn: &Node) -> Vec<Text> {
    let mut texts = vec![Text::new(rn.at("path"), &req.path)];
    for (k, v) in &req.headers {
        texts.push(Text::new(rn.at("headers").at(k), v));
    }
    if let Some(b) = &req.body {
        json_texts(b, &rn.at("body"), &mut texts);
    }
    texts
}
