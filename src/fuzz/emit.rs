//! A finding, told two ways: as a readable story, and as a case file that `sharecheck run`
//! executes, so a mismatch becomes a regression case in one step. Both read the steps' rows
//! of the operation table; nothing here knows one operation from another.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

use super::stateful::{
    Fill, Finding, Http, Payload, Step, Who, Whom, describe_caller, http_of, predictions,
};
use crate::operations::Compare;
use crate::suite::Target;

fn who(w: Who) -> &'static str {
    match w {
        Who::Persona(p) => p,
        Who::Anonymous => "anonymous",
        Who::BadToken => "bad_token",
        Who::WrongHeader => "anonymous",
    }
}

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
        .replace("{member}", &member_name(step.member));
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

/// The request of one step, as case YAML (a flow mapping), with placeholders for images,
/// projects and the sequence's image name.
fn request(step: &Step, image: &dyn Fn(usize) -> String) -> String {
    let fill = Fill {
        image,
        project: &whom,
        name: NAME,
        owner: "{owner}",
    };
    let Http {
        method,
        path,
        body,
        by,
    } = http_of(step, &fill);
    let mut out = format!("{{as: {}, method: {method}, path: \"{path}\"", who(by));
    match body {
        Some(Payload::Json(v)) => {
            let _ = write!(out, ", body: {v}");
        }
        Some(Payload::Raw(raw)) => {
            let _ = write!(out, ", raw_body: '{raw}'");
        }
        None => {}
    }
    out.push('}');
    out
}

/// What the last step's answer must hold, from its row's comparison.
fn expect_body(step: &Step, status: u16, value: &Value) -> Option<String> {
    if status == 204 {
        return Some("{kind: empty}".into());
    }
    if status != step.op.success {
        return None;
    }
    let length = |key: &str| value[key].as_array().map_or(0, Vec::len);
    match step.op.fuzz.compare {
        Compare::Member => {
            let s = value.get("status").and_then(Value::as_str).unwrap_or("");
            Some(format!(
                "{{kind: json, values: {{/member_id: \"{}\", /status: {s}}}}}",
                whom(step.member)
            ))
        }
        Compare::Members => Some(format!(
            "{{kind: json, lengths: {{/members: {}}}}}",
            length("members")
        )),
        Compare::ImagePage if !step.query.is_some_and(|q| q.contains("marker=")) => Some(format!(
            "{{kind: json, lengths: {{/images: {}}}}}",
            length("images")
        )),
        _ => None,
    }
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
    // Set-up names of the images made before the last step, in creation order.
    let mut names: Vec<Option<String>> = Vec::new();
    let mut setup: Vec<(String, &Step)> = Vec::new();
    // Images made before each step, to turn `img` (counted back) into an index.
    let mut before_step = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        before_step.push(names.len());
        if made(i) {
            let name = (i < last).then(|| format!("img{}", names.len()));
            if let Some(n) = &name {
                setup.push((n.clone(), step));
            }
            names.push(name);
        }
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
    let digest = {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in format!("{steps:?}").bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    let id = format!("fuzz-{}-{:08x}", finding.seed, digest as u32);
    let file = format!("fuzz_{}_{:08x}", finding.seed, digest as u32);
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# Found by `sharecheck fuzz --seed {}`; the shrunk sequence:",
        finding.seed
    );
    for line in describe(target, member_quota, steps).lines() {
        let _ = writeln!(y, "#{line}");
    }
    for line in finding.message.lines() {
        let _ = writeln!(y, "# mismatch: {line}");
    }
    if steps.iter().any(|s| s.by == Who::WrongHeader) {
        let _ = writeln!(
            y,
            "# (a token sent in the wrong header is written as `anonymous`)"
        );
    }
    let _ = writeln!(y, "id: {id}");
    let _ = writeln!(y, "operation: {op}");
    let _ = writeln!(y, "code: {status}");
    let _ = writeln!(
        y,
        "purpose: A sequence found by fuzzing (seed {}); the last step must answer {status} as the reference does.",
        finding.seed
    );
    if !setup.is_empty() {
        let _ = writeln!(y, "setup:\n  images:");
        for (n, step) in &setup {
            let visibility = step
                .body
                .and_then(|b| serde_json::from_str::<Value>(b).ok())
                .and_then(|v| v["visibility"].as_str().map(str::to_string))
                .unwrap_or_else(|| "shared".into());
            let _ = writeln!(y, "    {n}: {{visibility: {visibility}, name: \"{NAME}\"}}");
        }
    }
    let befores: Vec<usize> = (0..last).filter(|&i| !made(i)).collect();
    if !befores.is_empty() {
        let _ = writeln!(y, "before:");
        for i in befores {
            let _ = writeln!(
                y,
                "  - request: {}",
                request(&steps[i], &|b| image_at(i, b))
            );
            let _ = writeln!(y, "    expect: {{status: {}}}", predicted[i].0);
        }
    }
    let _ = writeln!(
        y,
        "request: {}",
        request(&steps[last], &|b| image_at(last, b))
    );
    let _ = writeln!(y, "expect:\n  status: {status}");
    if let Some(body) = expect_body(&steps[last], *status, value) {
        let _ = writeln!(y, "  body: {body}");
    }
    (
        PathBuf::from(op)
            .join(status.to_string())
            .join(format!("{file}.yaml")),
        y,
    )
}
