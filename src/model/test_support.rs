//! Helpers the model's unit tests share.

use super::{Deployment, Identities, Identity, Model, Rules};

/// A model with the built-in identities playing `deployment`.
pub(crate) fn model_with(deployment: Deployment) -> Model {
    Model::new(
        Identities::builtin(),
        Rules {
            deployment,
            ..Rules::default()
        },
    )
}

/// The identity a token of the model stands for.
pub(crate) fn who(m: &Model, token: &str) -> Identity {
    m.authenticate(Some(token)).expect("known token").clone()
}
