//! Work spread over threads, results kept in the order of the work.
//!
//! Both levels of `check` use it: the files of a run, and the independent
//! questions of one file. Each thread takes the next item not yet taken,
//! so a long item does not hold up the short ones behind it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Maps `f` over `items` on up to `threads` threads and gives the results
/// in the order of `items`. An item whose `f` panicked is `None`: the panic
/// hook has printed it already, and the caller says what it means for its
/// item (a failed file, a failed check) rather than losing it in silence.
pub(crate) fn map_in_order<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<Option<R>>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    // The closure is only ever called again on other items, whose state a
    // panic cannot have touched: each call owns what it builds.
    let one = |item: &T| catch_unwind(AssertUnwindSafe(|| f(item))).ok();
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(one).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            mine.push((i, one(item)));
        }
        mine
    };
    let mut done: Vec<(usize, Option<R>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        // The calling thread works too, rather than waiting on a thread of
        // its own: `threads` is the number of threads at work.
        let mut all = work();
        // Panics are caught per item above; a worker itself cannot
        // panic, and if it did its items would be None below.
        all.extend(
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default()),
        );
        all
    });
    done.sort_by_key(|(i, _)| *i);
    let mut out: Vec<Option<R>> = Vec::with_capacity(items.len());
    let mut it = done.into_iter().peekable();
    for i in 0..items.len() {
        out.push(it.next_if(|(k, _)| *k == i).and_then(|(_, r)| r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::map_in_order;

    #[test]
    fn results_keep_the_order_of_the_items_whatever_the_threads() {
        let items: Vec<u64> = (0..200).collect();
        // Uneven work, so threads finish out of order.
        let slow = |n: &u64| {
            std::thread::sleep(std::time::Duration::from_micros((n * 37) % 500));
            n * n
        };
        let want: Vec<Option<u64>> = items.iter().map(|n| Some(n * n)).collect();
        for threads in [1, 2, 3, 8, 500] {
            assert_eq!(
                map_in_order(&items, threads, slow),
                want,
                "{threads} threads"
            );
        }
    }

    #[test]
    fn a_panicking_item_is_none_and_the_others_are_kept() {
        let items: Vec<u32> = (0..20).collect();
        for threads in [1, 4] {
            let out = map_in_order(&items, threads, |n| {
                assert!(*n != 7, "item seven");
                *n
            });
            assert_eq!(out[7], None);
            assert_eq!(out.iter().flatten().count(), 19, "{threads} threads");
            assert_eq!(out[8], Some(8));
        }
    }

    #[test]
    fn no_items_no_results() {
        assert!(map_in_order(&[] as &[u8], 4, |n| *n).is_empty());
    }
}
