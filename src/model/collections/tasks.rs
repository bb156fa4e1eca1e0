//! Tasks: those created through the task API and the ones imports record.

use super::{Collection, SnapshotError, refuse};
use crate::model::state::State;
use crate::model::tasks::Task;

pub(crate) struct Tasks;

impl Collection for Tasks {
    const NAME: &'static str = crate::model::changes::TASKS;
    type Record = Task;

    fn get(state: &State, key: &str) -> Option<Task> {
        state.task(key).cloned()
    }

    fn all(state: &State) -> Vec<(String, Task)> {
        let mut tasks: Vec<&Task> = state.tasks().collect();
        tasks.sort_by_key(|t| t.seq);
        tasks
            .into_iter()
            .map(|t| (t.id.clone(), t.clone()))
            .collect()
    }

    fn load(
        state: &mut State,
        records: Vec<Task>,
        at: &dyn Fn(usize) -> String,
    ) -> Result<(), SnapshotError> {
        for (i, mut task) in records.into_iter().enumerate() {
            if state.task(&task.id).is_some() {
                return Err(refuse(
                    at(i),
                    format!("task id `{}` appears twice", task.id),
                ));
            }
            if task.seq == 0 {
                task.seq = i as u64 + 1;
            }
            state.restore_task(task);
        }
        Ok(())
    }
}
