//! TLS options of a target: a private CA (`cacert`), `insecure`, and a client certificate,
//! against the embedded mock behind a TLS-terminating proxy on loopback. Also: proxy
//! environment variables are ignored unless a proxy is configured.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{scratch, sharecheck, text};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio_rustls::rustls;

/// A private CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files.
struct Pki {
    dir: PathBuf,
    ca: rustls::pki_types::CertificateDer<'static>,
    server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    server_key: rustls::pki_types::PrivateKeyDer<'static>,
}

fn pki(tag: &str) -> Pki {
    let dir = scratch(tag);
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["sharecheck-client".to_string()])
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();

    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("client.pem"), client.pem()).unwrap();
    std::fs::write(dir.join("client.key"), client_key.serialize_pem()).unwrap();
    Pki {
        dir,
        ca: ca_cert.der().clone(),
        server_chain: vec![server.der().clone()],
        server_key: rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
    }
}

/// Terminates TLS on a loopback port and forwards to `upstream` (plain HTTP). With
/// `require_client_cert`, only clients with a certificate from the CA get through.
fn tls_proxy(
    rt: &tokio::runtime::Runtime,
    pki: &Pki,
    upstream: String,
    require_client_cert: bool,
) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = rustls::ServerConfig::builder();
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca.clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let upstream = upstream.trim_start_matches("http://").to_string();
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    format!("https://127.0.0.1:{}", addr.port())
}

fn target(endpoint: &str, dir: &Path, tag: &str, tls: &str) -> PathBuf {
    let extra = if tls.is_empty() {
        String::new()
    } else {
        format!("tls: {{{tls}}}\n")
    };
    let extra = extra.replace("DIR", dir.to_str().unwrap());
    common::target_file(endpoint, tag, &extra)
}

const FILTER: &str = "delete_image_member::404";

#[test]
fn private_ca_insecure_and_client_certificates() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_mock, _) = rt.block_on(sharecheck::embedded::start(None)).unwrap();
    let mock_uri = _mock.uri();
    let pki = pki("tls-pki");
    let https = tls_proxy(&rt, &pki, mock_uri.clone(), false);

    // Unknown issuer: refused before any case runs.
    let t = target(&https, &pki.dir, "tls-none", "");
    let out = sharecheck(&["run", "--target", t.to_str().unwrap(), FILTER]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("preflight"), "{}", text(&out));

    // The private CA makes it trusted.
    let t = target(&https, &pki.dir, "tls-ca", "cacert: DIR/ca.pem");
    let out = sharecheck(&["run", "--target", t.to_str().unwrap(), FILTER]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("0 failed"));

    // insecure skips verification.
    let t = target(&https, &pki.dir, "tls-insecure", "insecure: true");
    let out = sharecheck(&["run", "--target", t.to_str().unwrap(), FILTER]);
    assert!(out.status.success(), "{}", text(&out));

    // A server that requires a client certificate.
    let mtls = tls_proxy(&rt, &pki, mock_uri, true);
    let t = target(&mtls, &pki.dir, "tls-mtls-none", "cacert: DIR/ca.pem");
    let out = sharecheck(&["run", "--target", t.to_str().unwrap(), FILTER]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = target(
        &mtls,
        &pki.dir,
        "tls-mtls",
        "cacert: DIR/ca.pem, client_cert: DIR/client.pem, client_key: DIR/client.key",
    );
    let out = sharecheck(&["run", "--target", t.to_str().unwrap(), FILTER]);
    assert!(out.status.success(), "{}", text(&out));

    // A CA file that is not PEM is a configuration error naming the file.
    std::fs::write(pki.dir.join("bad.pem"), "not a certificate").unwrap();
    let t = target(&https, &pki.dir, "tls-bad", "cacert: DIR/bad.pem");
    let out = sharecheck(&["run", "--target", t.to_str().unwrap(), FILTER]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("cannot use TLS file ")
            && text(&out).contains("bad.pem\n  caused by: no certificate in the file"),
        "{}",
        text(&out)
    );
}

#[test]
fn proxy_environment_is_ignored_unless_configured() {
    let out = std::process::Command::new(common::BIN)
        .args(["run", "--exact", "delete_image_member::401::no_token"])
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}
