//! The target session: credentials set in one place, every exchange logged, registered images
//! deleted at the end, and errors that name the request but never a token.

use serde_json::json;
use sharecheck::{Caller, Req, SendError, Session, Stage};

#[tokio::test]
async fn sends_as_callers_logs_and_cleans_up() {
    let (_mock, target) = sharecheck::embedded::start(None)
        .await
        .expect("mock starts");
    let owner_token = target.personas["owner"].token.clone();
    let session = Session::new(target).expect("client");

    let a = session
        .send(Req::by("owner", "GET", "/v2/images?limit=1"))
        .await
        .unwrap();
    assert_eq!(a.status, 200);
    for caller in [Caller::Anonymous, Caller::EmptyToken, Caller::BadToken] {
        let a = session
            .send(Req::new(caller.clone(), "GET", "/v2/images"))
            .await
            .unwrap();
        assert_eq!(a.status, 401, "{caller}");
    }

    let created = session
        .send(
            Req::by("owner", "POST", "/v2/images")
                .json(&json!({"name": "sharecheck-session-test", "visibility": "shared"}))
                .stage(Stage::Setup),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201);
    let id = created.json().unwrap()["id"].as_str().unwrap().to_string();
    session.register_cleanup(&id, "owner");
    let fork = session.fork();
    assert!(
        fork.exchanges().is_empty(),
        "a fork starts with an empty log"
    );
    assert!(session.cleanup().await.is_empty());
    let gone = session
        .send(Req::by("owner", "GET", format!("/v2/images/{id}")))
        .await
        .unwrap();
    assert_eq!(gone.status, 404);

    let log = session.exchanges();
    let stages: Vec<&str> = log.iter().map(|x| x.stage.name()).collect();
    assert_eq!(
        stages,
        [
            "request", "request", "request", "request", "setup", "cleanup", "request"
        ]
    );
    assert_eq!(log[5].method, "DELETE");
    assert_eq!(log[5].status, 204);
    assert!(log[4].shape.starts_with("json{"));

    let err = session
        .send(Req::by("nobody", "GET", "/v2/images"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::UnknownPersona { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "GET /v2/images as nobody: the target has no persona `nobody`"
    );
    assert!(!format!("{session:?}").contains(&owner_token));
}
