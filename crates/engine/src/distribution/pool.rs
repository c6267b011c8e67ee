//! A few worker threads over a list of jobs (the blobs of one image).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Blobs moved at once, as Docker's default `max-concurrent-downloads`.
pub const THREADS: usize = 3;

/// Runs `f` on every item with up to `threads` threads; after the first
/// error no new item starts, and that error is returned. Results come back
/// in the items' order.
pub fn for_each<T, R>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>>
where
    T: Send,
    R: Send,
{
    let count = items.len();
    let queue = Mutex::new(items.into_iter().enumerate());
    let results = Mutex::new(Vec::with_capacity(count));
    let first_error = Mutex::new(None);
    let failed = AtomicBool::new(false);
    let work = || loop {
        if failed.load(Ordering::Relaxed) {
            return;
        }
        let Some((i, item)) = queue.lock().unwrap_or_else(|e| e.into_inner()).next() else {
            return;
        };
        match f(item) {
            Ok(r) => results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((i, r)),
            Err(e) => {
                failed.store(true, Ordering::Relaxed);
                first_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(e);
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, count.max(1)) {
            s.spawn(work);
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_stops_on_error() {
        let out = for_each((0..10).collect(), 3, |i: u32| Ok(i * 2)).unwrap();
        assert_eq!(out, (0..10).map(|i| i * 2).collect::<Vec<_>>());
        let err = for_each(vec![1, 2, 3], 2, |i: u32| {
            anyhow::ensure!(i != 2, "bad {i}");
            Ok(i)
        });
        assert_eq!(err.unwrap_err().to_string(), "bad 2");
        assert!(for_each(Vec::<u32>::new(), 3, Ok).unwrap().is_empty());
    }
}
