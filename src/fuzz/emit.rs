//! A finding, told two ways: as a readable story, and as a case file that `sharecheck run`
//! executes, so a mismatch becomes a regression case in one step. Both read the steps' rows
//! of the operation table; nothing here knows one operation from another.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

use super::stateful::{
    Fill, Finding, Http, Payload, Step, Who, Whom, describe_caller, http_of, predictions,
};
use crate::operations::Compare;
use crate::suite::{
    BodyExpect, BodyKind, CaseFile, Expect, ImageSetup, Lengths, Request, Setup, Step as CaseStep,
    TokenIn, Values,
};
use crate::target::Target;

fn whom(w: Whom) -> String {
    match w {
        Whom::Persona(p) => format!("{{{p}}}"),
        Whom::Ghost(n) => format!("sharecheck-ghost-{n}"),
    }
}

fn member_name(w: Whom) -> String {
    match w {
        Whom::Persona(p) => format!("{p}'s project"),
        Whom::Ghost(n) => format!("ghost project {n}"),
    }
}

/// One step in words, from its row's `says`: images as `#n`, members by name.
fn tell(step: &Step, images_before: usize) -> String {
    let image = match images_before.checked_sub(step.img + 1) {
        Some(n) => format!("#{n}"),
        None => "(none: an unknown id)".to_string(),
    };
    let says = step
        .op
        .fuzz
        .says
        .replace("{image}", &image)
        .replace("{member}", &member_name(step.member))
        .replace("{tag}", crate::fuzz::stateful::FUZZ_TAG);
    let query = step
        .query
        .map(|q| {
            format!(
                " ({})",
                q.replace("{name}", "its name").replace("{image}", &image)
            )
        })
        .unwrap_or_default();
    let body = match step.body {
        None | Some("") => String::new(),
        Some(b) if step.op.fuzz.bodies.first() == Some(&b) => String::new(),
        Some(b) => match b.strip_prefix('!') {
            Some(raw) => format!(" with the malformed body `{raw}`"),
            None => format!(
                " with the body {}",
                b.replace("{name}", "…")
                    .replace("{owner}", "<owner's project>")
                    .replace("{member}", &member_name(step.member))
            ),
        },
    };
    let says = format!("{says}{query}{body}");
    format!("{} {says}", describe_caller(step.by))
}

/// One line per step, with the model's expected status.
pub fn describe(target: &Target, member_quota: i64, steps: &[Step]) -> String {
    let predicted = predictions(target, member_quota, "sharecheck-story", steps);
    let mut out = String::new();
    let mut images = 0usize;
    for (i, (step, (status, _))) in steps.iter().zip(&predicted).enumerate() {
        let _ = writeln!(out, "  {}. {} → expect {status}", i + 1, tell(step, images));
        if step.creates() && *status == step.op.success {
            images += 1;
        }
    }
    out
}

const NAME: &str = "sharecheck-{run_id}-{random_uuid}";

/// The request of one step as a case request, with placeholders for images, projects and
/// the sequence's image name; a token sent in another header stays in that header.
fn request(step: &Step, image: &dyn Fn(usize) -> String) -> Request {
    let fill = Fill {
        image,
        project: &whom,
        name: NAME,
        owner: "{owner}",
        store: "{default_store}",
    };
    let Http {
        method,
        path,
        body,
        by,
    } = http_of(step, &fill);
    let (caller, token_in) = match by {
        Who::Persona(p) => (p.to_string(), None),
        Who::Anonymous => ("anonymous".to_string(), None),
        Who::BadToken => ("bad_token".to_string(), None),
        Who::WrongHeader => (
            "owner".to_string(),
            Some(TokenIn {
                header: "Authorization".into(),
                prefix: "Bearer ".into(),
            }),
        ),
    };
    let (body, raw_body) = match body {
        Some(Payload::Json(text)) => match serde_json::from_str(&text) {
            Ok(v) => (Some(v), None),
            Err(_) => (None, Some(text)),
        },
        Some(Payload::Raw(raw)) => (None, Some(raw)),
        None => (None, None),
    };
    Request {
        caller,
        method: method.to_string(),
        path,
        headers: BTreeMap::new(),
        body,
        raw_body,
        repeat: None,
        poll: None,
        token_in,
    }
}

/// What the last step's answer must hold, from its row's comparison.
fn expect_body(step: &Step, status: u16, value: &Value) -> Option<BodyExpect> {
    let json = |values: BTreeMap<String, Value>, lengths: BTreeMap<String, usize>| BodyExpect {
        values: Values(values),
        lengths: Lengths(lengths),
        ..BodyExpect::new(BodyKind::Json)
    };
    if status == 204 {
        return Some(BodyExpect::new(BodyKind::Empty));
    }
    if status != step.op.success {
        return None;
    }
    let length = |key: &str| {
        let n = value[key].as_array().map_or(0, Vec::len);
        BTreeMap::from([(format!("/{key}"), n)])
    };
    match step.op.fuzz.compare {
        Compare::Member => Some(json(
            BTreeMap::from([
                ("/member_id".to_string(), Value::String(whom(step.member))),
                ("/status".to_string(), value["status"].clone()),
            ]),
            BTreeMap::new(),
        )),
        Compare::Members => Some(json(BTreeMap::new(), length("members"))),
        Compare::ImagePage if !step.query.is_some_and(|q| q.contains("marker=")) => {
            Some(json(BTreeMap::new(), length("images")))
        }
        _ => None,
    }
}

/// A short stable digest of the steps, for the case's id and file name.
fn digest(steps: &[Step]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("{steps:?}").bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h as u32
}

/// The emitted case: its path below a cases folder (`<operation>/<code>/<name>.yaml`) and its
/// text. Images created successfully before the last step become set-up images (all named
/// alike, so `?name=` lists exactly them); every other step is a checked `before` step; the
/// last step is the request, with the model's status and body.
pub fn case_file(target: &Target, member_quota: i64, finding: &Finding) -> (PathBuf, String) {
    let steps = &finding.steps;
    let predicted = predictions(target, member_quota, "sharecheck-emit", steps);
    let last = steps.len() - 1;
    let made = |i: usize| steps[i].creates() && predicted[i].0 == steps[i].op.success;
    let mut setup = Setup::default();
    // Set-up names of the images made, in creation order (`None`: made by the last step), and
    // how many were made before each step, to turn `img` (counted back) into a name.
    let mut names: Vec<Option<String>> = Vec::new();
    let mut before_step = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        before_step.push(names.len());
        if !made(i) {
            continue;
        }
        if i == last {
            names.push(None);
            continue;
        }
        let name = format!("img{}", names.len());
        let created = step
            .body
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .unwrap_or(Value::Null);
        let text = |key: &str| created[key].as_str().map(str::to_string);
        let visibility = text("visibility").unwrap_or_else(|| "shared".into());
        setup.images.insert(
            name.clone(),
            ImageSetup {
                name: Some(NAME.into()),
                visibility,
                members: BTreeMap::new(),
                fill_to_quota: false,
                protected: false,
                tags: Vec::new(),
                fill_tags_to_quota: false,
                deleted: false,
                disk_format: text("disk_format"),
                container_format: text("container_format"),
                data: None,
                deactivated: false,
            },
        );
        names.push(Some(name));
    }
    let image_at = |step: usize, back: usize| match before_step[step].checked_sub(back + 1) {
        Some(i) => match names.get(i) {
            Some(Some(n)) => format!("{{{n}}}"),
            _ => "{random_uuid}".to_string(),
        },
        None => "{random_uuid}".to_string(),
    };
    let (status, value) = &predicted[last];
    let op = steps[last].op.name;
    let tag = format!("{}_{:08x}", finding.seed, digest(steps));
    let case = CaseFile {
        id: format!("fuzz-{}", tag.replace('_', "-")),
        operation: op.to_string(),
        code: *status,
        purpose: format!(
            "A sequence found by fuzzing (seed {}); the last step must answer {status} as the reference does.",
            finding.seed
        ),
        alone: false,
        requires: Vec::new(),
        setup,
        before: (0..last)
            .filter(|&i| !made(i))
            .map(|i| CaseStep {
                request: request(&steps[i], &|b| image_at(i, b)),
                expect: status_only(predicted[i].0),
                save: Default::default(),
            })
            .collect(),
        request: request(&steps[last], &|b| image_at(last, b)),
        expect: Expect {
            body: expect_body(&steps[last], *status, value),
            ..status_only(*status)
        },
        then: Vec::new(),
    };
    let mut text = format!(
        "# Found by `sharecheck fuzz --seed {}`; the shrunk sequence:\n",
        finding.seed
    );
    for line in describe(target, member_quota, steps).lines() {
        let _ = writeln!(text, "#{line}");
    }
    for line in finding.message.lines() {
        let _ = writeln!(text, "# mismatch: {line}");
    }
    text.push_str(&serde_yaml::to_string(&case).unwrap_or_default());
    (
        PathBuf::from(op)
            .join(status.to_string())
            .join(format!("fuzz_{tag}.yaml")),
        text,
    )
}

fn status_only(status: u16) -> Expect {
    Expect {
        status,
        body: None,
        headers: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_in_the_wrong_header_stays_in_that_header() {
        let personas = crate::target::PERSONAS
            .iter()
            .map(|p| {
                let persona = crate::target::Persona {
                    token: format!("{p}-token"),
                    project_id: format!("proj-{p}"),
                };
                (p.to_string(), persona)
            })
            .collect();
        let target = Target::new("http://127.0.0.1:1", personas);
        let steps = vec![
            Step::of(
                "create_image",
                0,
                Whom::Persona("member"),
                Who::Persona("owner"),
            ),
            Step::of(
                "list_image_members",
                0,
                Whom::Persona("member"),
                Who::WrongHeader,
            ),
        ];
        let finding = Finding {
            steps,
            message: "m".into(),
            seed: 2,
        };
        let (file, text) = case_file(&target, 5, &finding);
        assert!(
            file.starts_with("list_image_members/401"),
            "{}",
            file.display()
        );
        let yaml = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let case: CaseFile = serde_yaml::from_str(&yaml).expect("a case file");
        let schema = jsonschema::validator_for(&crate::suite::case_schema()).unwrap();
        let value: Value = serde_yaml::from_str(&yaml).unwrap();
        assert!(
            schema.is_valid(&value),
            "not valid by the case schema:\n{yaml}"
        );
        assert_eq!(case.request.caller, "owner");
        let t = case.request.token_in.expect("token_in");
        assert_eq!(
            (t.header.as_str(), t.prefix.as_str()),
            ("Authorization", "Bearer ")
        );
        assert_eq!(case.request.path, "/v2/images/{img0}/members");
        assert!(case.setup.images.contains_key("img0"));
    }
}
