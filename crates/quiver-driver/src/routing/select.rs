//! Server selection: least-connected, with a round-robin tie break per access mode.

use quiver_bolt::AccessMode;

use crate::config::Address;

/// Where the next scan for each mode starts (the Java driver's
/// `LeastConnectedLoadBalancingStrategy`): among the servers with the fewest connections in
/// use, the first one met from a start index that moves on by one every selection, so equally
/// loaded servers take turns.
#[derive(Debug, Default)]
pub(crate) struct RoundRobin {
    read: usize,
    write: usize,
}

impl RoundRobin {
    /// The server of `candidates` with the fewest connections in use (`in_use`), ties broken by
    /// this mode's turn; `None` when there is no candidate.
    pub(crate) fn select<'a>(
        &mut self,
        mode: AccessMode,
        candidates: &'a [Address],
        mut in_use: impl FnMut(&Address) -> usize,
    ) -> Option<&'a Address> {
        if candidates.is_empty() {
            return None;
        }
        let turn = match mode {
            AccessMode::Read => &mut self.read,
            AccessMode::Write => &mut self.write,
        };
        let start = *turn % candidates.len();
        *turn = turn.wrapping_add(1);
        let mut best: Option<(&Address, usize)> = None;
        for offset in 0..candidates.len() {
            let candidate = candidates.get((start + offset) % candidates.len())?;
            let load = in_use(candidate);
            if best.is_none_or(|(_, least)| load < least) {
                best = Some((candidate, load));
            }
        }
        best.map(|(address, _)| address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(names: &[&str]) -> Vec<Address> {
        names.iter().map(|n| Address::new(*n, 7687)).collect()
    }

    #[test]
    fn the_least_connected_server_wins() {
        let mut rr = RoundRobin::default();
        let candidates = servers(&["a", "b", "c"]);
        let load = |a: &Address| match a.host.as_str() {
            "a" => 3,
            "b" => 1,
            _ => 2,
        };
        for _ in 0..5 {
            assert_eq!(
                rr.select(AccessMode::Read, &candidates, load).unwrap().host,
                "b"
            );
        }
        assert!(rr.select(AccessMode::Read, &[], load).is_none());
    }

    #[test]
    fn ties_take_turns_per_mode() {
        let mut rr = RoundRobin::default();
        let candidates = servers(&["a", "b", "c"]);
        let picks: Vec<String> = (0..4)
            .map(|_| {
                rr.select(AccessMode::Read, &candidates, |_| 0)
                    .unwrap()
                    .host
                    .clone()
            })
            .collect();
        assert_eq!(picks, ["a", "b", "c", "a"]);
        // Writes keep their own turn.
        assert_eq!(
            rr.select(AccessMode::Write, &candidates, |_| 0)
                .unwrap()
                .host,
            "a"
        );
        assert_eq!(
            rr.select(AccessMode::Read, &candidates, |_| 0)
                .unwrap()
                .host,
            "b"
        );
    }
}
