//! Metadata definitions: namespaces, each with the objects, tags, properties and resource
//! type associations it defines (one record), and the resource types ever associated.

use super::{Collection, SnapshotError, refuse};
use crate::model::metadefs::{Namespace, ResourceType};
use crate::model::state::State;

pub(crate) struct Namespaces;

impl Collection for Namespaces {
    const NAME: &'static str = crate::model::changes::NAMESPACES;
    type Record = Namespace;

    fn get(state: &State, key: &str) -> Option<Namespace> {
        state.namespace(key).cloned()
    }

    fn all(state: &State) -> Vec<(String, Namespace)> {
        let all = state.namespaces().iter();
        all.map(|n| (n.name.clone(), n.clone())).collect()
    }

    fn load(
        state: &mut State,
        records: Vec<Namespace>,
        at: &dyn Fn(usize) -> String,
    ) -> Result<(), SnapshotError> {
        let mut records: Vec<(usize, Namespace)> = records.into_iter().enumerate().collect();
        let mut last = 0;
        for (_, ns) in &mut records {
            if ns.seq == 0 {
                ns.seq = last + 1;
            }
            last = last.max(ns.seq);
        }
        records.sort_by_key(|(_, ns)| ns.seq);
        for (i, ns) in records {
            if ns.name.is_empty() || state.namespace(&ns.name).is_some() {
                return Err(refuse(
                    format!("{}.name", at(i)),
                    format!("`{}` is empty or appears twice", ns.name),
                ));
            }
            if !["public", "private"].contains(&ns.visibility.as_str()) {
                return Err(refuse(
                    format!("{}.visibility", at(i)),
                    format!("`{}`: expected public or private", ns.visibility),
                ));
            }
            state.restore_namespace(ns);
        }
        Ok(())
    }
}

pub(crate) struct ResourceTypes;

impl Collection for ResourceTypes {
    const NAME: &'static str = crate::model::changes::RESOURCE_TYPES;
    type Record = ResourceType;

    fn get(state: &State, key: &str) -> Option<ResourceType> {
        state
            .resource_types()
            .iter()
            .find(|r| r.name == key)
            .cloned()
    }

    fn all(state: &State) -> Vec<(String, ResourceType)> {
        let all = state.resource_types().iter();
        all.map(|r| (r.name.clone(), r.clone())).collect()
    }

    fn load(
        state: &mut State,
        records: Vec<ResourceType>,
        at: &dyn Fn(usize) -> String,
    ) -> Result<(), SnapshotError> {
        for (i, r) in records.into_iter().enumerate() {
            if r.name.is_empty() || state.resource_types().iter().any(|t| t.name == r.name) {
                return Err(refuse(
                    format!("{}.name", at(i)),
                    format!("`{}` is empty or appears twice", r.name),
                ));
            }
            state.restore_resource_type(r);
        }
        Ok(())
    }
}
