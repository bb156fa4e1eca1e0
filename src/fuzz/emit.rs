//! A finding, told two ways: as a readable story, and as a case file that `sharecheck run`
//! executes, so a mismatch becomes a regression case in one step.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

use super::stateful::{
    AddBody, Finding, Http, Payload, StatusArg, Step, Who, Whom, http_of, predictions,
};
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

fn caller(w: Who) -> String {
    match w {
        Who::Persona(p) => p.to_string(),
        Who::Anonymous => "a caller without a token".into(),
        Who::BadToken => "a caller with an unknown token".into(),
        Who::WrongHeader => "the owner, with its token in `Authorization: Bearer`".into(),
    }
}

fn member_name(w: Whom) -> String {
    match w {
        Whom::Persona(p) => format!("{p}'s project"),
        Whom::Ghost(n) => format!("ghost project {n}"),
    }
}

/// One line per step, with the model's expected status.
pub fn describe(target: &Target, member_quota: i64, steps: &[Step]) -> String {
    let predicted = predictions(target, member_quota, "sharecheck-story", steps);
    let mut out = String::new();
    let mut images = 0usize;
    for (i, (step, (status, _))) in steps.iter().zip(&predicted).enumerate() {
        // `img` counts back from the newest image; show it as an absolute number.
        let at = |back: &usize| match images.checked_sub(back + 1) {
            Some(n) => format!("#{n}"),
            None => "(none: an unknown id)".to_string(),
        };
        let text = match step {
            Step::CreateImage {
                visibility,
                by_admin,
            } => format!(
                "{} creates a {visibility} image{}",
                if *by_admin { "admin" } else { "owner" },
                if *by_admin { " owned by the owner" } else { "" }
            ),
            Step::DeleteImage { img, by } => format!("{} deletes image {}", caller(*by), at(img)),
            Step::AddMember {
                img,
                member,
                by,
                body,
            } => match body {
                AddBody::Valid => format!(
                    "{} adds {} to image {}",
                    caller(*by),
                    member_name(*member),
                    at(img)
                ),
                AddBody::Empty => format!(
                    "{} adds an empty member id to image {}",
                    caller(*by),
                    at(img)
                ),
                AddBody::Malformed => {
                    format!("{} sends a malformed add to image {}", caller(*by), at(img))
                }
            },
            Step::ListMembers { img, by } => {
                format!("{} lists the members of image {}", caller(*by), at(img))
            }
            Step::ShowMember { img, member, by } => {
                format!(
                    "{} shows {} on image {}",
                    caller(*by),
                    member_name(*member),
                    at(img)
                )
            }
            Step::UpdateMember {
                img,
                member,
                by,
                status,
            } => format!(
                "{} sets {} on image {} to {}",
                caller(*by),
                member_name(*member),
                at(img),
                match status {
                    StatusArg::Set(s) => (*s).to_string(),
                    StatusArg::Bogus => "an invalid status".into(),
                    StatusArg::Missing => "nothing (no status key)".into(),
                }
            ),
            Step::DeleteMember {
                img,
                member,
                by,
                with_body,
            } => format!(
                "{} removes {} from image {}{}",
                caller(*by),
                member_name(*member),
                at(img),
                if *with_body {
                    " (with a request body)"
                } else {
                    ""
                }
            ),
            Step::ListImages { by, member_status } => format!(
                "{} lists the sequence's images{}",
                caller(*by),
                member_status
                    .map(|s| format!(" with member_status={s}"))
                    .unwrap_or_default()
            ),
        };
        if matches!(step, Step::CreateImage { .. }) && *status == 201 {
            images += 1;
        }
        let _ = writeln!(out, "  {}. {text} → expect {status}", i + 1);
    }
    out
}

const NAME: &str = "sharecheck-{run_id}-{random_uuid}";

/// The request of one step, as case YAML (a flow mapping), with placeholders for images,
/// projects and the sequence's image name.
fn request(step: &Step, image: &dyn Fn(usize) -> String) -> String {
    let Http {
        method,
        path,
        body,
        by,
    } = http_of(step, image, &whom, NAME, "{owner}");
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

/// The emitted case: its path below a cases folder (`<operation>/<code>/<name>.yaml`) and its
/// text. Images created successfully before the last step become set-up images (all named
/// alike, so `?name=` lists exactly them); every other step is a checked `before` step; the
/// last step is the request, with the model's status and body.
pub fn case_file(target: &Target, member_quota: i64, finding: &Finding) -> (PathBuf, String) {
    let steps = &finding.steps;
    let predicted = predictions(target, member_quota, "sharecheck-emit", steps);
    let last = steps.len() - 1;
    // Image index → set-up name, for successful creates before the last step.
    let mut setup: Vec<(String, &Step)> = Vec::new();
    let mut created = 0usize;
    let mut names: Vec<Option<String>> = Vec::new();
    for (i, (step, (status, _))) in steps.iter().zip(&predicted).enumerate() {
        if matches!(step, Step::CreateImage { .. }) && *status == 201 {
            if i < last {
                let n = format!("img{created}");
                setup.push((n.clone(), step));
                names.push(Some(n));
            } else {
                names.push(None);
            }
            created += 1;
        }
    }
    // Successful creates before each step, to turn `img` (counted back) into an index.
    let mut before_step = Vec::with_capacity(steps.len());
    let mut count = 0usize;
    for (step, (status, _)) in steps.iter().zip(&predicted) {
        before_step.push(count);
        if matches!(step, Step::CreateImage { .. }) && *status == 201 {
            count += 1;
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
    let op = steps[last].op().name;
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
    if steps.iter().any(|s| {
        matches!(
            s,
            Step::ListImages {
                by: Who::WrongHeader,
                ..
            }
        ) || matches!(
            s,
            Step::DeleteImage {
                by: Who::WrongHeader,
                ..
            }
        )
    }) {
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
            if let Step::CreateImage { visibility, .. } = step {
                let _ = writeln!(y, "    {n}: {{visibility: {visibility}, name: \"{NAME}\"}}");
            }
        }
    }
    let befores: Vec<usize> = (0..last)
        .filter(|&i| !(matches!(steps[i], Step::CreateImage { .. }) && predicted[i].0 == 201))
        .collect();
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
    match (&steps[last], value) {
        (
            Step::AddMember { member, .. }
            | Step::ShowMember { member, .. }
            | Step::UpdateMember { member, .. },
            v,
        ) if *status == 200 => {
            let s = v.get("status").and_then(Value::as_str).unwrap_or("");
            let _ = writeln!(
                y,
                "  body: {{kind: json, values: {{/member_id: \"{}\", /status: {s}}}}}",
                whom(*member)
            );
        }
        (Step::ListMembers { .. }, v) if *status == 200 => {
            let a = v["members"].as_array().map_or(0, Vec::len);
            let _ = writeln!(y, "  body: {{kind: json, lengths: {{/members: {a}}}}}",);
        }
        (Step::ListImages { .. }, v) if *status == 200 => {
            let a = v["images"].as_array().map_or(0, Vec::len);
            let _ = writeln!(y, "  body: {{kind: json, lengths: {{/images: {a}}}}}",);
        }
        (_, _) if *status == 204 => {
            let _ = writeln!(y, "  body: {{kind: empty}}");
        }
        _ => {}
    }
    (
        PathBuf::from(op)
            .join(status.to_string())
            .join(format!("{file}.yaml")),
        y,
    )
}
