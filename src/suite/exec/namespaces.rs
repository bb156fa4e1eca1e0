//! Set-up of metadata definition namespaces: created by the admin, with their objects, tags,
//! properties and resource type associations, and deleted at the end of the case.

use serde_json::{Value, json};

use super::{CaseFailure, Run};
use crate::suite::case::NamespaceSetup;

impl Run<'_> {
    /// Creates the set-up namespace `name` (usable as `{name}`), registered for clean-up
    /// before its objects and tags are added.
    pub(super) async fn setup_namespace(
        &mut self,
        name: &str,
        ns: &NamespaceSetup,
    ) -> Result<(), CaseFailure> {
        // One stem per case, so a case's namespaces sort next to each other by name.
        let stem: String = self.vars["random_uuid"]
            .chars()
            .filter(|c| *c != '-')
            .take(8)
            .collect();
        let full = format!("sharecheck-{}-{stem}-{name}", self.env.run_id);
        let mut body = json!({
            "namespace": full,
            "visibility": ns.visibility,
            "protected": ns.protected,
        });
        if let Some(owner) = &ns.owner {
            body["owner"] = Value::String(self.expand(&format!("{{{owner}}}")));
        }
        let what = format!("creating namespace `{name}`");
        self.call(
            &what,
            "admin",
            "POST",
            "/v2/metadefs/namespaces",
            Some(body),
            &[201],
        )
        .await?;
        self.session.register_namespace_cleanup(&full, "admin");
        let base = format!("/v2/metadefs/namespaces/{full}");
        for object in &ns.objects {
            let what = format!("defining object `{object}` in namespace `{name}`");
            let body = json!({"name": self.expand(object)});
            self.call(
                &what,
                "admin",
                "POST",
                &format!("{base}/objects"),
                Some(body),
                &[201],
            )
            .await?;
        }
        if !ns.tags.is_empty() {
            let tags: Vec<Value> = ns
                .tags
                .iter()
                .map(|t| json!({"name": self.expand(t)}))
                .collect();
            let what = format!("defining the tags of namespace `{name}`");
            let body = json!({"tags": tags});
            self.call(
                &what,
                "admin",
                "POST",
                &format!("{base}/tags"),
                Some(body),
                &[201],
            )
            .await?;
        }
        for p in &ns.properties {
            let what = format!("defining property `{p}` in namespace `{name}`");
            let p = self.expand(p);
            let body = json!({"name": p, "title": p, "type": "string"});
            self.call(
                &what,
                "admin",
                "POST",
                &format!("{base}/properties"),
                Some(body),
                &[201],
            )
            .await?;
        }
        for rt in &ns.resource_types {
            let what = format!("associating namespace `{name}` with `{rt}`");
            let body = json!({"name": self.expand(rt)});
            self.call(
                &what,
                "admin",
                "POST",
                &format!("{base}/resource_types"),
                Some(body),
                &[201],
            )
            .await?;
        }
        self.vars.insert(name.to_string(), full);
        Ok(())
    }
}
