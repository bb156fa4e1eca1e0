//! Bundles `specs/` and `cases/` into the binary, so `sharecheck run` works from anywhere, and
//! writes the table's declarations from the specs (`OUT_DIR/declared.rs`): each spec's name,
//! method, path, success status, body kind and `since`, read by `src/operations/declare.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "src/operations/declare.rs"]
mod declare;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// `specs/*.yaml` (not `specs/schemas/`) as Rust constants, and `DECLARED`, all of them.
fn declarations(root: &Path) -> Result<String, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("specs"))
        .map_err(|e| format!("specs/: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut code = String::new();
    let mut names = Vec::new();
    for f in files {
        let shown = f.strip_prefix(root).unwrap_or(&f).display().to_string();
        let src = std::fs::read_to_string(&f).map_err(|e| format!("{shown}: {e}"))?;
        let d = declare::read(&src).map_err(|e| format!("{shown}: {e}"))?;
        let name = d.name.to_ascii_uppercase();
        writeln!(
            code,
            "/// `{shown}`.\npub(crate) const {name}: Declared = Declared {{ name: {:?}, \
             method: {:?}, path: {:?}, success: {}, body: Body::{}, since: {:?} }};",
            d.name, d.method, d.path, d.success, d.body, d.since
        )
        .unwrap();
        names.push(name);
    }
    writeln!(
        code,
        "/// Every spec's declaration, in file order.\n\
         pub(crate) static DECLARED: &[Declared] = &[{}];",
        names.join(", ")
    )
    .unwrap();
    Ok(code)
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut code = String::from("pub(crate) static BUNDLED: &[(&str, &str)] = &[\n");
    for top in ["specs", "cases"] {
        println!("cargo:rerun-if-changed={top}");
        let mut files = Vec::new();
        collect(&root.join(top), &mut files);
        files.sort();
        for f in files {
            let rel = f
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            writeln!(
                code,
                "    ({rel:?}, include_str!({:?})),",
                f.display().to_string()
            )
            .unwrap();
        }
    }
    code.push_str("];\n");
    std::fs::write(out.join("bundled.rs"), code).unwrap();
    println!("cargo:rerun-if-changed=src/operations/declare.rs");
    match declarations(&root) {
        Ok(code) => std::fs::write(out.join("declared.rs"), code).unwrap(),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
