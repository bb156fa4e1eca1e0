//! The steps of a generated sequence and their generator. A step is a row of the operation
//! table with the choices the row leaves open: which image, which member, who calls, which
//! body and query. Nothing here is specific to one operation.

use proptest::prelude::*;
use proptest_state_machine::ReferenceStateMachine;

use crate::operations::{Compare, Operation, table};
use crate::target::PERSONAS;

/// Who sends a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// A persona of the target.
    Persona(&'static str),
    /// No token.
    Anonymous,
    /// A token nobody issued.
    BadToken,
    /// The owner's token in `Authorization: Bearer` instead of `X-Auth-Token`.
    WrongHeader,
}

/// Which project a member call names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whom {
    /// A persona's project.
    Persona(&'static str),
    /// A project no persona has (a few distinct ones, so quotas fill).
    Ghost(u8),
}

/// One request of a generated sequence. `img` counts back from the newest image created so
/// far (0 = newest), which keeps a step meaning the same image when shrinking drops earlier
/// steps; counting past the oldest names an image that does not exist.
#[derive(Clone)]
pub struct Step {
    pub(crate) op: &'static Operation,
    pub(crate) img: usize,
    pub(crate) member: Whom,
    pub(crate) by: Who,
    pub(crate) body: Option<&'static str>,
    pub(crate) query: Option<&'static str>,
}

impl PartialEq for Step {
    fn eq(&self, o: &Step) -> bool {
        self.op.name == o.op.name
            && (self.img, self.member, self.by, self.body, self.query)
                == (o.img, o.member, o.by, o.body, o.query)
    }
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} by {:?} on image -{}",
            self.op.name, self.by, self.img
        )
    }
}

impl Step {
    /// A step of the row named `op` (scripts; the name must be in the table), with the row's
    /// first body and query if it has any.
    pub(crate) fn of(op: &str, img: usize, member: Whom, by: Who) -> Step {
        let op = crate::operations::by_name(op).expect("a row of the operation table");
        Step {
            op,
            img,
            member,
            by,
            body: op.fuzz.bodies.first().copied(),
            query: op.fuzz.queries.first().copied(),
        }
    }

    /// The same step with another body.
    pub(crate) fn with_body(mut self, body: &'static str) -> Step {
        self.body = Some(body);
        self
    }

    /// The same step with another query.
    pub(crate) fn with_query(mut self, query: &'static str) -> Step {
        self.query = Some(query);
        self
    }

    /// Whether a success makes a new image.
    pub(crate) fn creates(&self) -> bool {
        self.op.fuzz.compare == Compare::Created
    }
}

/// What the generator needs to know: how many images were created so far.
#[derive(Clone, Debug, Default)]
pub struct Shape {
    images: usize,
}

/// The generator.
pub struct Sequences;

fn who() -> BoxedStrategy<Who> {
    prop_oneof![
        10 => prop::sample::select(PERSONAS.to_vec()).prop_map(Who::Persona),
        1 => Just(Who::Anonymous),
        1 => Just(Who::BadToken),
        1 => Just(Who::WrongHeader),
    ]
    .boxed()
}

fn whom() -> BoxedStrategy<Whom> {
    prop_oneof![
        10 => Just(Whom::Persona("member")),
        4 => Just(Whom::Persona("other_member")),
        1 => Just(Whom::Persona("stranger")),
        1 => Just(Whom::Persona("admin")),
        1 => Just(Whom::Persona("owner")),
        4 => (0u8..4).prop_map(Whom::Ghost),
    ]
    .boxed()
}

/// A caller for a call about `member`: mostly the owner or the member itself, so that the
/// rules about who may do what are exercised, sometimes anyone else.
fn who_about(member: Whom) -> BoxedStrategy<Who> {
    let own = match member {
        Whom::Persona(p) => p,
        Whom::Ghost(_) => "owner",
    };
    prop_oneof![
        8 => Just(Who::Persona("owner")),
        6 => Just(Who::Persona(own)),
        2 => Just(Who::Persona("admin")),
        3 => who(),
    ]
    .boxed()
}

/// One of `items`, or `None` when there are none.
fn one_of(items: &'static [&'static str]) -> BoxedStrategy<Option<&'static str>> {
    if items.is_empty() {
        Just(None).boxed()
    } else {
        prop::sample::select(items.to_vec()).prop_map(Some).boxed()
    }
}

/// A step of `op` on image `img`.
fn step_of(op: &'static Operation, img: BoxedStrategy<usize>) -> BoxedStrategy<Step> {
    let body = one_of(op.fuzz.bodies);
    let query = one_of(op.fuzz.queries);
    (
        img,
        whom().prop_flat_map(|m| (Just(m), who_about(m))),
        body,
        query,
    )
        .prop_map(move |(img, (member, by), body, query)| {
            // Images are made by the owner, or by the admin on the owner's behalf, so that
            // an emitted case can build them in its set-up.
            let by = match (op.fuzz.compare, body) {
                (Compare::Created, Some(b)) if b.contains("{owner}") => Who::Persona("admin"),
                (Compare::Created, _) => Who::Persona("owner"),
                _ => by,
            };
            Step {
                op,
                img,
                member,
                by,
                body,
                query,
            }
        })
        .boxed()
}

impl ReferenceStateMachine for Sequences {
    type State = Shape;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Shape> {
        Just(Shape::default()).boxed()
    }

    fn transitions(state: &Shape) -> BoxedStrategy<Step> {
        // Mostly the newest image, sometimes an older one, sometimes none that exists.
        let img = prop_oneof![
            14 => Just(0usize),
            5 => 0..state.images.max(1),
            1 => Just(state.images),
        ]
        .boxed();
        // Creates weigh more until a few images exist.
        let rows: Vec<(u32, BoxedStrategy<Step>)> = table()
            .iter()
            .filter(|op| op.fuzz.weight > 0)
            .map(|op| {
                let boost = match (op.fuzz.compare, state.images) {
                    (Compare::Created, 0) => 8,
                    (Compare::Created, 1 | 2) => 3,
                    _ => 1,
                };
                (op.fuzz.weight * boost, step_of(op, img.clone()))
            })
            .collect();
        proptest::strategy::Union::new_weighted(rows).boxed()
    }

    fn apply(mut state: Shape, t: &Step) -> Shape {
        if t.creates() {
            state.images += 1;
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn every_weighted_row_is_generated_with_every_body() {
        let mut runner = TestRunner::deterministic();
        let strategy = Sequences::sequential_strategy(1..=12usize);
        let mut seen = std::collections::BTreeMap::<(&str, Option<&str>), usize>::new();
        for _ in 0..400 {
            let (_, steps, _) = strategy.new_tree(&mut runner).expect("tree").current();
            for s in steps {
                *seen.entry((s.op.name, s.body)).or_default() += 1;
            }
        }
        for op in table().iter().filter(|o| o.fuzz.weight > 0) {
            let bodies: Vec<Option<&str>> = if op.fuzz.bodies.is_empty() {
                vec![None]
            } else {
                op.fuzz.bodies.iter().map(|b| Some(*b)).collect()
            };
            for b in bodies {
                assert!(
                    seen.contains_key(&(op.name, b)),
                    "{} {b:?} never generated",
                    op.name
                );
            }
        }
        eprintln!("{seen:#?}");
    }
}
