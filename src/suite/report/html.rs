//! `report.html`: the report as one self-contained HTML page (inline CSS, no scripts).

use std::fmt::Write as _;

use super::build::{Cell, Notes, Outcome, Report, docs_text, extra_text};
use crate::suite::spec::Operation;

pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

pub(super) const CSS: &str = r#"
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;
--passed:#1a7f37;--passed-bg:#dcf5e3;--failed:#cf222e;--failed-bg:#ffe1de;
--ignored:#8a5a00;--ignored-bg:#fff3c4;--np:#6e40c9;--np-bg:#efe7ff;
--notrun:#59636e;--notrun-bg:#f3f5f7;--xfail:#0b6e99;--xfail-bg:#ddf1fa;
--xpass:#b3261e;--xpass-bg:#ffeccc;--drift:#b54708;--drift-bg:#ffe8d1;--nocase:#9a1d5d;--nocase-bg:#fde4f0}
*{box-sizing:border-box}
body{margin:0;padding:20px 24px 40px;color:var(--fg);background:#fff;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:17px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12px}
.meta{display:flex;flex-wrap:wrap;gap:4px 22px;margin:6px 0 10px;color:var(--muted)}
.meta b{color:var(--fg);font-weight:600}
.totals{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.badge{display:inline-block;border-radius:999px;padding:3px 12px;font-weight:600;font-size:13px}
.badge.passed{background:var(--passed-bg);color:var(--passed)}
.badge.failed{background:var(--failed-bg);color:var(--failed)}
.badge.ignored{background:var(--ignored-bg);color:var(--ignored)}
.badge.notrun{background:var(--notrun-bg);color:var(--notrun);border:1px dashed #afb8c1}
.badge.xfail{background:var(--xfail-bg);color:var(--xfail)}
.badge.xpass{background:var(--xpass-bg);color:var(--xpass)}
.badge.drift{background:var(--drift-bg);color:var(--drift)}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;font-size:12.5px;color:var(--muted);margin:10px 0 4px}
.legend span.sw{display:inline-block;width:14px;height:14px;border-radius:3px;vertical-align:-2px;margin-right:5px;border:1px solid var(--line)}
.wrap{overflow:auto;max-height:92vh;border:1px solid var(--line);border-radius:6px}
table.matrix{border-collapse:separate;border-spacing:0;font-size:12px}
.matrix th,.matrix td{border-right:1px solid var(--line);border-bottom:1px solid var(--line);padding:4px 5px;vertical-align:top}
.matrix thead th{position:sticky;top:0;z-index:2;background:#f6f8fa;font-size:13px;text-align:center;padding:6px 4px}
.matrix thead th.opcol{left:0;z-index:3;text-align:left}
.matrix th.op{position:sticky;left:0;z-index:1;background:#fff;text-align:left;font-weight:400;min-width:190px;max-width:210px}
.op .name{font-weight:600;font-size:12.5px;font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace}
.op .path{color:var(--muted);font-size:11px;overflow-wrap:anywhere}
.op .path b{color:var(--fg);font-weight:600}
td.cell{min-width:70px;max-width:112px}
.op .sum{margin-top:5px;font-size:11px;color:var(--muted)}
.op .sum b{font-size:13px;color:var(--fg)}
.bar{height:5px;border-radius:3px;background:#e6e9ec;margin:3px 0 4px;overflow:hidden}
.bar i{display:block;height:100%;background:var(--passed)}
td.na{background:repeating-linear-gradient(135deg,#f2f4f6 0 5px,#e8ebee 5px 10px)}
td.passed{background:var(--passed-bg)} td.failed{background:var(--failed-bg);box-shadow:inset 0 0 0 2px var(--failed)}
td.ignored{background:var(--ignored-bg)} td.np{background:var(--np-bg)} td.notrun{background:var(--notrun-bg)}
td.xfail{background:var(--xfail-bg)} td.xpass{background:var(--xpass-bg)}
td.drift{background:var(--drift-bg);box-shadow:inset 0 0 0 2px var(--drift);color:var(--drift);font-weight:600}
td.nocase{background:var(--nocase-bg);color:var(--nocase);font-weight:600}
td.undoc{font-style:italic;background-image:repeating-linear-gradient(135deg,transparent 0 6px,rgba(0,0,0,.045) 6px 8px)}
.undoc-tag{display:inline-block;font-size:10px;font-style:italic;color:var(--muted);border:1px dashed #8c959f;border-radius:3px;padding:0 3px;margin-bottom:2px}
.c{display:block;line-height:1.22;margin:1px 0 3px;padding-left:12px;text-indent:-12px;color:var(--fg);
font-family:"Arial Narrow","Roboto Condensed","DejaVu Sans Condensed","Liberation Sans Narrow",system-ui,sans-serif;font-stretch:condensed;font-size:11.5px}
.c .g{display:inline-block;width:12px;text-indent:0;font-weight:700;font-style:normal}
.c.passed .g{color:var(--passed)} .c.failed .g,.c.failed{color:var(--failed)} .c.failed{font-weight:600}
.c.ignored .g{color:var(--ignored)} .c.notrun{color:var(--notrun)} .c.notrun .g{color:var(--notrun)}
.c.xfail .g{color:var(--xfail)} .c.xpass .g{color:var(--xpass)}
.c .w{font-size:10.5px;color:var(--muted);white-space:nowrap;font-style:normal}
.c.passed .w{display:none}
.c.failed .w{color:var(--failed)}
.np-tag{display:block;color:var(--np);font-weight:600;font-size:11.5px;margin-bottom:2px}
.obs{display:block;font-size:10.5px;color:var(--muted);margin-top:2px}
a.fn{color:inherit;text-decoration:none;font-size:10px;vertical-align:super;font-weight:700;padding:0 1px}
a.fn:hover{text-decoration:underline}
a{color:#0969da}
ol.notes{font-size:12.5px;color:var(--muted);padding-left:26px;columns:2 420px;column-gap:36px}
ol.notes li{margin:2px 0;break-inside:avoid}
ol.notes li:target{background:#fff8c5}
table.drift{border-collapse:collapse;font-size:13px;width:100%}
table.drift th,table.drift td{border:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
table.drift thead th{background:#f6f8fa}
table.drift td:first-child{width:17%}
table.drift td:nth-child(2){width:36%}
.chip{display:inline-block;border-radius:4px;padding:1px 6px;margin:1px 4px 2px 0;font-weight:600;font-size:12px}
.chip.missing{background:var(--notrun-bg);color:var(--fg);border:1px solid var(--line)}
.chip.real{background:var(--failed-bg);color:var(--failed);border:1px solid var(--failed)}
.chip.extra{background:var(--drift-bg);color:var(--drift);border:1px solid var(--drift)}
.chip.undocrow{background:#fff;color:var(--drift);border:1px dashed var(--drift);font-style:italic}
.why{color:var(--muted);font-size:12px}
.none{color:var(--muted)}
details.failure{border:1px solid var(--failed);border-radius:6px;margin:8px 0;background:#fffafa}
details.failure summary{cursor:pointer;padding:6px 10px;font-weight:600;color:var(--failed)}
details.failure pre{margin:0;padding:8px 12px;border-top:1px solid #ffd1cc;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}
.foot{margin-top:28px;color:var(--muted);font-size:12px}
"#;

pub(super) const LEGEND: &[(&str, &str)] = &[
    ("passed", "passed"),
    ("failed", "failed"),
    ("ignored", "ignored (footnote: why)"),
    ("np", "not provokable (footnote: why)"),
    ("notrun", "not run (filtered out)"),
    ("xfail", "expected failure"),
    ("xpass", "unexpected pass"),
    ("nocase", "row without a case"),
    ("drift", "observed, not in the table"),
    ("na", "no such row in the table"),
];

impl Report<'_> {
    /// The page; `sections` (already HTML) go after the failures.
    pub(super) fn html(&self, sections: &str) -> String {
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>sharecheck report — {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            esc(&self.endpoint)
        );
        let _ = writeln!(
            o,
            "<h1>sharecheck traceability and drift report</h1>\n<div class=\"meta\">\
<span>target <b class=\"mono\">{}</b></span><span>run <b class=\"mono\">{}</b></span>\
<span>started <b>{}</b></span><span>wall time <b>{}</b></span>\
<span><b>{}</b> cases, <b>{}</b> operations</span></div>",
            esc(&self.endpoint),
            esc(&self.run_id),
            esc(&self.started),
            esc(&self.wall()),
            self.cases,
            self.rows.len()
        );
        o.push_str("<div class=\"totals\">");
        for (class, word, n) in self.totals() {
            let _ = write!(o, "<span class=\"badge {class}\">{n} {word}</span>");
        }
        let (missing, extra) = self.drift_counts();
        let _ = write!(
            o,
            "<a class=\"badge drift\" href=\"#drift\" title=\"documented codes whose cases ran \
but that the target never answered; codes the target answered that the documentation does not \
list\">drift: {missing} documented code(s) not produced, {extra} undocumented produced</a>"
        );
        o.push_str("</div>\n<div class=\"legend\">");
        for (class, word) in LEGEND {
            let _ = write!(
                o,
                "<span><span class=\"sw {class}\" style=\"{}\"></span>{word}</span>",
                swatch(class)
            );
        }
        o.push_str(
            "<span><span class=\"undoc-tag\">undoc.</span> italic: code not in the \
documentation's table (documented: false)</span></div>\n",
        );

        o.push_str("<h2>Matrix: operations × status codes</h2>\n<div class=\"wrap\">\n<table class=\"matrix\">\n<thead><tr><th class=\"opcol\">operation</th>");
        for code in &self.codes {
            let _ = write!(o, "<th>{code}</th>");
        }
        o.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            let op = row.op;
            let (exercised, rows, rest) = row.summary();
            let pct = (exercised * 100).checked_div(rows).unwrap_or(0);
            let _ = write!(
                o,
                "<tr id=\"op-{name}\"><th class=\"op\" scope=\"row\"><div class=\"name\">{name}</div>\
<div class=\"path\"><b>{}</b> {}</div><div class=\"sum\" title=\"table rows with a case that \
reached the target, of all rows\"><b>{exercised}/{rows}</b> codes exercised\
<div class=\"bar\"><i style=\"width:{pct}%\"></i></div>",
                esc(&op.method),
                esc(&op.path),
                name = esc(&op.operation)
            );
            let rest: Vec<String> = rest.iter().map(|(n, w)| format!("{n} {w}")).collect();
            if !rest.is_empty() {
                let _ = write!(o, "<div>{}</div>", esc(&rest.join(" · ")));
            }
            o.push_str("</div></th>");
            for (code, cell) in self.codes.iter().zip(&row.cells) {
                html_cell(&mut o, op, *code, cell, &self.notes);
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</tbody></table></div>\n");

        if !self.notes.0.is_empty() {
            o.push_str("<h2>Notes</h2>\n<ol class=\"notes\">");
            for (i, n) in self.notes.0.iter().enumerate() {
                let _ = write!(o, "<li id=\"n{}\">{}</li>", i + 1, esc(n));
            }
            o.push_str("</ol>\n");
        }

        o.push_str(
            "<h2 id=\"drift\">Drift</h2>\n<p class=\"why\">Against what the target answered \
during this run (set-up, steps and clean-up included). Red: the cases citing the code reached \
the target, yet it never answered with it. Orange: the target answered with a code the \
documentation does not list (dashed: listed in the spec as documented: false, observed on the \
reference).</p>\n<table class=\"drift\"><thead><tr><th>operation</th>\
<th>documented, never produced</th><th>produced, not documented</th>\
<th>the documentation sets disagree</th></tr></thead><tbody>\n",
        );
        for d in &self.drift {
            let _ = write!(
                o,
                "<tr id=\"drift-{0}\"><td><code>{0}</code></td><td>",
                esc(&d.op.operation)
            );
            if d.missing.is_empty() {
                o.push_str("<span class=\"none\">none</span>");
            }
            for m in &d.missing {
                let _ = write!(
                    o,
                    "<div><span class=\"chip {}\">{}</span>{} <span class=\"why\">— {}</span></div>",
                    if m.real { "real" } else { "missing" },
                    m.response.code,
                    esc(&m.response.name),
                    esc(&m.why)
                );
            }
            o.push_str("</td><td>");
            if d.extra.is_empty() {
                o.push_str("<span class=\"none\">none</span>");
            }
            for e in &d.extra {
                let _ = write!(
                    o,
                    "<div><span class=\"chip {}\">{} ×{}</span><span class=\"why\">{}</span></div>",
                    if e.response.is_some() {
                        "undocrow"
                    } else {
                        "extra"
                    },
                    e.code,
                    e.count,
                    esc(extra_text(e)
                        .split_once(" (")
                        .map_or("", |(_, r)| r.trim_end_matches(')')))
                );
            }
            o.push_str("</td><td>");
            match docs_text(d) {
                Some(t) => o.push_str(&esc(&t)),
                None => o.push_str("<span class=\"none\">none</span>"),
            }
            o.push_str("</td></tr>\n");
        }
        o.push_str("</tbody></table>\n");

        if !self.failures.is_empty() {
            o.push_str("<h2 id=\"failures\">Failures</h2>\n");
            for f in &self.failures {
                let _ = writeln!(
                    o,
                    "<details class=\"failure\" id=\"fail-{id}\" open><summary>{name}</summary><pre>{}</pre></details>",
                    esc(f.message.trim_end()),
                    id = esc(&f.case.file.id),
                    name = esc(&f.case.name)
                );
            }
        }
        o.push_str(sections);
        let _ = write!(
            o,
            "<p class=\"foot\">Generated by sharecheck {} — specs and cases: {} operations, {} \
cases.</p>\n</body>\n</html>\n",
            env!("CARGO_PKG_VERSION"),
            self.rows.len(),
            self.cases
        );
        o
    }
}

/// Inline style of a legend swatch (the cell colours).
pub(super) fn swatch(class: &str) -> &'static str {
    match class {
        "passed" => "background:var(--passed-bg)",
        "failed" => "background:var(--failed-bg);border-color:var(--failed)",
        "ignored" => "background:var(--ignored-bg)",
        "np" => "background:var(--np-bg)",
        "notrun" => "background:var(--notrun-bg);border-style:dashed",
        "xfail" => "background:var(--xfail-bg)",
        "xpass" => "background:var(--xpass-bg)",
        "nocase" => "background:var(--nocase-bg)",
        "drift" => "background:var(--drift-bg);border-color:var(--drift)",
        _ => "background:repeating-linear-gradient(135deg,#f2f4f6 0 3px,#dfe3e7 3px 6px)",
    }
}

pub(super) fn html_cell(o: &mut String, op: &Operation, code: u16, cell: &Cell<'_>, notes: &Notes) {
    let fn_link = |n: usize| {
        format!(
            "<a class=\"fn\" href=\"#n{n}\" title=\"{}\">{n}</a>",
            esc(&notes.0[n - 1])
        )
    };
    match cell {
        Cell::Absent { observed: 0 } => {
            let _ = write!(
                o,
                "<td class=\"cell na\" data-code=\"{code}\" title=\"{} has no {code} row\"></td>",
                esc(&op.operation)
            );
        }
        Cell::Absent { observed } => {
            let _ = write!(
                o,
                "<td class=\"cell drift\" data-code=\"{code}\" title=\"the target answered {code} \
{observed} time(s); the table has no such row\">observed ×{observed}<br>not in table</td>"
            );
        }
        Cell::Row {
            response,
            cases,
            not_provokable,
            observed,
        } => {
            let undoc = if response.documented { "" } else { " undoc" };
            let mut title = format!("{code} {}: {}", response.name, response.meaning.trim());
            if let Some(note) = &response.note {
                let _ = write!(title, "\nNote: {}", note.trim());
            }
            let _ = write!(
                o,
                "<td class=\"cell {}{undoc}\" data-code=\"{code}\" title=\"{}\">",
                cell.class(),
                esc(&title)
            );
            if !response.documented {
                o.push_str("<span class=\"undoc-tag\">undoc.</span>");
            }
            if let Some(n) = not_provokable {
                let why = notes.0[n - 1].trim_start_matches("not provokable: ");
                let _ = write!(
                    o,
                    "<span class=\"np-tag\" title=\"{}\">not provokable{}</span>",
                    esc(why),
                    fn_link(*n)
                );
            }
            for c in cases {
                let title = match c.outcome.reason() {
                    Some(why) => format!("{}: {} — {why}", c.case.name, c.outcome.word()),
                    None => format!("{}: {}", c.case.name, c.outcome.word()),
                };
                let id = esc(&c.case.file.id);
                let label = match c.outcome {
                    Outcome::Failed => {
                        format!("<a href=\"#fail-{id}\" style=\"color:inherit\">{id}</a>")
                    }
                    _ => id.clone(),
                };
                let _ = write!(
                    o,
                    "<span class=\"c {}\" title=\"{}\"><span class=\"g\">{}</span>{label} \
<span class=\"w\">{}</span>{}</span>",
                    c.outcome.class(),
                    esc(&title),
                    c.outcome.glyph(),
                    c.outcome.word(),
                    c.note.map(fn_link).unwrap_or_default()
                );
            }
            if cases.is_empty() && not_provokable.is_none() {
                o.push_str("no case");
            }
            if *observed > 0 && cases.iter().all(|c| !c.outcome.ran()) {
                let _ = write!(o, "<span class=\"obs\">observed ×{observed}</span>");
            }
            o.push_str("</td>");
        }
    }
}
