//! Clean targets: whatever happens to a run, the images it created are gone afterwards, and
//! `sharecheck cleanup` removes what earlier runs left.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Mock, create_image, image_names, sharecheck, text};

/// Every `sharecheck-…` image on the mock (the admin lists all projects' images; community
/// images are listed separately).
fn leftovers(uri: &str) -> Vec<String> {
    let mut names: Vec<String> = image_names(uri, "admin-token")
        .into_iter()
        .chain(common::image_names_query(
            uri,
            "admin-token",
            "visibility=community",
        ))
        .filter(|n| n.starts_with("sharecheck-"))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn a_run_with_failing_cases_leaves_no_image() {
    let mock = Mock::start(&["--member-quota", "5", "--mutant", "delete-member-noop"]);
    let target = mock.target_file("cleanup-failing", "member_quota: 5\n");
    let out = sharecheck(&["run", "--target", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("failed"));
    assert_eq!(leftovers(&mock.uri), Vec::<String>::new());
}

/// A TCP proxy that delays every chunk from the client, making a run slow enough to
/// interrupt. Runs on its own thread until the process ends.
fn slow_proxy(upstream: &str, delay: Duration) -> String {
    let upstream = upstream.trim_start_matches("http://").to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut sr, mut sw) = server.into_split();
                    let (mut cr, mut cw) = client.split();
                    let up = async {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            let n = match cr.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            tokio::time::sleep(delay).await;
                            if sw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = sw.shutdown().await;
                    };
                    let down = tokio::io::copy(&mut sr, &mut cw);
                    let _ = tokio::join!(up, down);
                });
            }
        });
    });
    format!("http://{addr}")
}

#[test]
fn an_interrupted_run_deletes_what_it_created() {
    let mock = Mock::start(&["--member-quota", "5"]);
    let proxy = slow_proxy(&mock.uri, Duration::from_millis(40));
    let target = common::target_file(&proxy, "cleanup-interrupt", "member_quota: 5\n");
    let child = Command::new(common::BIN)
        .args([
            "run",
            "--target",
            target.to_str().unwrap(),
            "--test-threads",
            "8",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run has created images, then interrupt it.
    let start = Instant::now();
    while leftovers(&mock.uri).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the run created nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted; cleaning up"), "{err}");
    assert_eq!(leftovers(&mock.uri), Vec::<String>::new());
}

#[test]
fn cleanup_removes_leftovers_of_earlier_runs_only() {
    let mock = Mock::start(&[]);
    create_image(&mock.uri, "owner-token", "sharecheck-aaaa1111-old-case-img");
    create_image(&mock.uri, "owner-token", "sharecheck-bbbb2222-old-case-img");
    create_image(&mock.uri, "stranger-token", "sharecheck-aaaa1111-other");
    create_image(&mock.uri, "owner-token", "precious");
    let target = mock.target_file("cleanup-cmd", "");

    let out = sharecheck(&[
        "cleanup",
        "--target",
        target.to_str().unwrap(),
        "--run-id",
        "aaaa1111",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("2 image(s) named sharecheck-aaaa1111-… deleted"),
        "{}",
        text(&out)
    );
    assert_eq!(
        leftovers(&mock.uri),
        vec!["sharecheck-bbbb2222-old-case-img".to_string()]
    );

    let out = sharecheck(&["cleanup", "--target", target.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(leftovers(&mock.uri), Vec::<String>::new());
    assert_eq!(
        image_names(&mock.uri, "owner-token"),
        vec!["precious".to_string()]
    );
}

/// Installs a fault rule on the mock (loopback callers may).
fn fault(uri: &str, rule: serde_json::Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = common::client()
            .post(format!("{uri}/_sharecheck/faults"))
            .json(&rule)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    });
}

#[test]
fn cleanup_tries_a_delete_again_after_a_5xx_and_reports_one_that_persists() {
    let mock = Mock::start(&[]);
    let target = mock.target_file("cleanup-5xx", "");
    let cleanup = || sharecheck(&["cleanup", "--target", target.to_str().unwrap()]);

    // Two 500s, then the delete goes through: a race of the server's own threads.
    create_image(&mock.uri, "owner-token", "sharecheck-cccc3333-racing");
    let rule = |times: u64| serde_json::json!({"method": "DELETE", "path": "/v2/images/*", "status": 500, "times": times});
    fault(&mock.uri, rule(2));
    let out = cleanup();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(leftovers(&mock.uri), Vec::<String>::new());

    // A delete that keeps failing is reported, not retried for ever.
    create_image(&mock.uri, "owner-token", "sharecheck-cccc3333-stuck");
    fault(&mock.uri, rule(50));
    let out = cleanup();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("500"), "{}", text(&out));
    assert_eq!(
        leftovers(&mock.uri),
        vec!["sharecheck-cccc3333-stuck".to_string()]
    );
}
