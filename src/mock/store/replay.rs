//! The log replayed: the state its writes build up, and a state as the writes that rebuild
//! it (what a rewritten log holds).

use std::collections::HashMap;

use crate::model::{ImageRecord, MemberRecord, Snapshot, TokenRecord, Write};

/// The state as the log builds it up.
#[derive(Default)]
pub(super) struct Replay {
    images: HashMap<String, ImageRecord>,
    members: HashMap<String, HashMap<String, MemberRecord>>,
    former: HashMap<String, HashMap<String, String>>,
    /// Tokens in the order they were issued (`None`: revoked since).
    tokens: Vec<Option<TokenRecord>>,
    token_at: HashMap<String, usize>,
}

impl Replay {
    pub(super) fn apply(&mut self, write: Write) {
        match write {
            Write::Image {
                id,
                record: Some(r),
            } => {
                self.images.insert(id, *r);
            }
            Write::Image { id, record: None } => {
                self.images.remove(&id);
                self.members.remove(&id);
                self.former.remove(&id);
            }
            Write::Member {
                image,
                member,
                row,
                former,
            } => {
                let rows = self.members.entry(image.clone()).or_default();
                match row {
                    Some(r) => rows.insert(member.clone(), r),
                    None => rows.remove(&member),
                };
                let gone = self.former.entry(image).or_default();
                match former {
                    Some(at) => gone.insert(member, at),
                    None => gone.remove(&member),
                };
            }
            Write::Token { token, record } => match (self.token_at.get(&token), record) {
                (Some(&i), record) => self.tokens[i] = record,
                (None, Some(r)) => {
                    self.token_at.insert(token, self.tokens.len());
                    self.tokens.push(Some(r));
                }
                (None, None) => {}
            },
            Write::Replace { state } => {
                *self = Replay::default();
                for write in expand(&state) {
                    self.apply(write);
                }
            }
        }
    }

    /// How many records are live (what a rewritten log would hold).
    pub(super) fn live(&self) -> usize {
        let rows: usize = self.members.values().map(HashMap::len).sum();
        let former: usize = self.former.values().map(HashMap::len).sum();
        self.images.len() + rows + former + self.tokens.iter().flatten().count()
    }

    pub(super) fn finish(mut self) -> Result<Snapshot, String> {
        let orphans = self.members.iter().map(|(id, r)| (id, r.is_empty()));
        let orphans = orphans.chain(self.former.iter().map(|(id, f)| (id, f.is_empty())));
        for (id, empty) in orphans {
            if !empty && !self.images.contains_key(id) {
                return Err(format!("members of image {id}, which is not there"));
            }
        }
        let mut images: Vec<ImageRecord> = self.images.into_values().collect();
        images.sort_by_key(|i| i.created_order);
        for img in &mut images {
            let mut rows: Vec<MemberRecord> = self
                .members
                .remove(&img.id)
                .map(|m| m.into_values().collect())
                .unwrap_or_default();
            rows.sort_by_key(|r| r.added_order);
            img.members = rows;
            img.former_members = self.former.remove(&img.id).unwrap_or_default();
        }
        Ok(Snapshot {
            images,
            tokens: self.tokens.into_iter().flatten().collect(),
            ..Snapshot::empty()
        })
    }
}

/// `state` as one write per record: each image, its members and former members, each token.
pub(super) fn expand(state: &Snapshot) -> Vec<Write> {
    let mut writes = Vec::new();
    for img in &state.images {
        let record = ImageRecord {
            members: Vec::new(),
            former_members: HashMap::new(),
            ..img.clone()
        };
        writes.push(Write::Image {
            id: img.id.clone(),
            record: Some(Box::new(record)),
        });
        for m in &img.members {
            writes.push(Write::Member {
                image: img.id.clone(),
                member: m.member_id.clone(),
                row: Some(m.clone()),
                former: img.former_members.get(&m.member_id).cloned(),
            });
        }
        for (member, at) in &img.former_members {
            if !img.members.iter().any(|m| &m.member_id == member) {
                writes.push(Write::Member {
                    image: img.id.clone(),
                    member: member.clone(),
                    row: None,
                    former: Some(at.clone()),
                });
            }
        }
    }
    for t in &state.tokens {
        writes.push(Write::Token {
            token: t.token.clone(),
            record: Some(t.clone()),
        });
    }
    writes
}
