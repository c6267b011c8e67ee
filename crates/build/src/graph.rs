//! The graph of stages: which stages a target needs, in which order, and
//! which of them can build at the same time. Edges come from a stage's
//! base (`FROM stage`), `COPY --from=stage` and `RUN --mount=from=stage`.

use std::collections::BTreeSet;

use crate::plan::Stage;

/// Groups the stages `target` needs (itself included) by depth: a stage's
/// group is one more than the deepest group among its dependencies, so the
/// stages of one group can run in parallel once the groups before are
/// done. Fails with the name and line of a stage on a cycle (checked over
/// all stages, as Docker does).
pub fn levels(stages: &[Stage], target: usize) -> Result<Vec<Vec<usize>>, (String, usize)> {
    if let Some(i) = find_cycle(stages) {
        return Err((stages[i].display_name(), stages[i].line));
    }
    let needed = needed_by(stages, target);
    let mut depth = vec![0usize; stages.len()];
    // Without cycles, repeating len times settles every depth.
    for _ in 0..stages.len() {
        let mut changed = false;
        for &i in &needed {
            let d = stages[i]
                .depends_on
                .iter()
                .map(|&dep| depth[dep] + 1)
                .max()
                .unwrap_or(0);
            if d != depth[i] {
                depth[i] = d;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let top = needed.iter().map(|&i| depth[i]).max().unwrap_or(0);
    let mut levels = vec![Vec::new(); top + 1];
    for &i in &needed {
        levels[depth[i]].push(i);
    }
    Ok(levels)
}

/// `target` and everything it depends on, transitively.
pub fn needed_by(stages: &[Stage], target: usize) -> BTreeSet<usize> {
    let mut needed = BTreeSet::new();
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        if i < stages.len() && needed.insert(i) {
            todo.extend(stages[i].depends_on.iter().copied());
        }
    }
    needed
}

/// A stage that depends on itself through some path.
fn find_cycle(stages: &[Stage]) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::New; stages.len()];
    for start in 0..stages.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (stage, its dependencies not yet visited).
        let mut path: Vec<(usize, Vec<usize>)> = vec![(start, deps(stages, start))];
        marks[start] = Mark::OnPath;
        while let Some((node, pending)) = path.last_mut() {
            let node = *node;
            match pending.pop() {
                None => {
                    marks[node] = Mark::Done;
                    path.pop();
                }
                Some(next) if next >= stages.len() => {}
                Some(next) => match marks[next] {
                    Mark::OnPath => return Some(next),
                    Mark::Done => {}
                    Mark::New => {
                        marks[next] = Mark::OnPath;
                        path.push((next, deps(stages, next)));
                    }
                },
            }
        }
    }
    None
}

fn deps(stages: &[Stage], i: usize) -> Vec<usize> {
    stages[i].depends_on.iter().rev().copied().collect()
}
