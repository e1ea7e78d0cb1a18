//! The next deadline of every instance, ordered: the node's next wake-up is
//! the first of them, and a timeout visits only the instances that are due,
//! instead of asking all of them on every packet (500 instances at 10 adverts
//! a second each made that the backup's main cost).

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use crate::effect::InstanceId;

#[derive(Clone, Debug, Default)]
pub struct TimerIndex {
    by_time: BTreeSet<(Instant, InstanceId)>,
    at: HashMap<InstanceId, Instant>,
}

impl TimerIndex {
    /// Records instance `id`'s next deadline (`None`: none, or gone).
    pub fn set(&mut self, id: InstanceId, next: Option<Instant>) {
        if self.at.get(&id).copied() == next {
            return;
        }
        if let Some(old) = self.at.remove(&id) {
            self.by_time.remove(&(old, id));
        }
        if let Some(t) = next {
            self.by_time.insert((t, id));
            self.at.insert(id, t);
        }
    }

    pub fn clear(&mut self) {
        self.by_time.clear();
        self.at.clear();
    }

    pub fn first(&self) -> Option<Instant> {
        self.by_time.first().map(|(t, _)| *t)
    }

    /// The instances due at `now`, earliest first.
    pub fn due(&self, now: Instant) -> Vec<InstanceId> {
        self.by_time
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, id)| *id)
            .collect()
    }

    pub fn get(&self, id: InstanceId) -> Option<Instant> {
        self.at.get(&id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keeps_one_deadline_per_instance_in_order() {
        let t = Instant::now();
        let mut ix = TimerIndex::default();
        ix.set(InstanceId(1), Some(t + Duration::from_millis(30)));
        ix.set(InstanceId(2), Some(t + Duration::from_millis(10)));
        ix.set(InstanceId(1), Some(t + Duration::from_millis(5)));
        assert_eq!(ix.first(), Some(t + Duration::from_millis(5)));
        assert_eq!(
            ix.due(t + Duration::from_millis(10)),
            vec![InstanceId(1), InstanceId(2)]
        );
        ix.set(InstanceId(1), None);
        assert_eq!(ix.due(t + Duration::from_secs(1)), vec![InstanceId(2)]);
    }
}
