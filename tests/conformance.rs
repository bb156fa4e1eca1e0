//! The conformance suite against the embedded mock, as a `cargo test` target (harness =
//! false): the same runner and trials as `sharecheck run`.

use std::process::ExitCode;
use std::sync::Arc;

use sharecheck::{Driver, RunOptions, Suite};

fn main() -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let suite = match Suite::bundled() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (_mock, target) = rt
        .block_on(sharecheck::embedded::start(None))
        .expect("embedded mock starts");
    let driver = Arc::new(Driver::new(target, &suite).expect("HTTP client"));
    let opts = RunOptions {
        args,
        ..Default::default()
    };
    match sharecheck::run_suite(&Arc::new(suite), driver, rt.handle().clone(), opts) {
        Ok(summary) => ExitCode::from(summary.exit_code()),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
