//! A byte budget on template rendering: `run.limits.max_render_memory`.
//!
//! Fuel bounds a render's instructions and `max_render_bytes` its output, but neither bounds
//! the values a template builds on the way: `{% set ns.s = ns.s ~ ns.s %}` in a loop of 40
//! doubles a string to a terabyte in 40 steps, and minijinja has no hook on `~`, `+`, `replace`
//! or a `{% set %}` block capture. The one place every such value passes is the allocator, so
//! gauntlet's global allocator counts, per thread, the bytes a render allocates (minus what it
//! frees). It costs one thread-local read per allocation when no render is running.
//!
//! An allocator cannot fail softly: Rust aborts on a failed allocation, and unwinding out of
//! one is undefined behaviour. So a render that needs more than its budget stops gauntlet at
//! once with a message that names the limit and the template, and the documented exit code:
//! 2 at load (nothing ran), 3 once runs have started — every finished run is already flushed
//! to the journal, so `--resume` after fixing the template loses nothing. Templates are rendered
//! for every case at load, so a template that blows up almost always does so before any run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The system allocator, counting the allocations of renders in progress.
pub struct Budgeted;

#[global_allocator]
static GLOBAL: Budgeted = Budgeted;

thread_local! {
    /// The budget of the render running on this thread; 0 when none is.
    static LIMIT: Cell<usize> = const { Cell::new(0) };
    /// Bytes allocated by that render and not yet freed (frees of older memory saturate at 0,
    /// so they never make room for more).
    static USED: Cell<usize> = const { Cell::new(0) };
    /// The template being rendered, for the message: its source, borrowed for the render.
    static WHAT: Cell<(*const u8, usize)> = const { Cell::new((std::ptr::null(), 0)) };
}

/// Renders in progress on any thread: while there are none (most of the time), an allocation
/// costs one relaxed load of this and nothing else.
static RENDERING: AtomicUsize = AtomicUsize::new(0);

/// Whether runs have started (the exit code of a breach: 3 rather than 2).
static RUNS_STARTED: AtomicBool = AtomicBool::new(false);

/// Tells the budget that runs have started: a breach from now on is exit 3, not exit 2.
pub fn runs_started() {
    RUNS_STARTED.store(true, Ordering::Relaxed);
}

/// Runs `render` (a template render or expression evaluation of `source`) with a budget of
/// `limit` bytes on what it allocates. A render nested in another runs under the outer budget.
pub fn within<R>(limit: u64, source: &str, render: impl FnOnce() -> R) -> R {
    if LIMIT.get() != 0 {
        return render();
    }
    /// Disarms the budget when the render returns or unwinds.
    struct Disarm;
    impl Drop for Disarm {
        fn drop(&mut self) {
            LIMIT.set(0);
            USED.set(0);
            WHAT.set((std::ptr::null(), 0));
            RENDERING.fetch_sub(1, Ordering::Relaxed);
        }
    }
    RENDERING.fetch_add(1, Ordering::Relaxed);
    let _disarm = Disarm;
    WHAT.set((source.as_ptr(), source.len()));
    USED.set(0);
    LIMIT.set(usize::try_from(limit).unwrap_or(usize::MAX).max(1));
    render()
}

/// Adds `bytes` to the running render's account; past its budget, stops gauntlet.
#[inline]
fn charge(bytes: usize) {
    if RENDERING.load(Ordering::Relaxed) == 0 {
        return;
    }
    let Ok(limit) = LIMIT.try_with(Cell::get) else {
        return; // The thread is being torn down: no render runs.
    };
    if limit == 0 {
        return;
    }
    let used = USED.get().saturating_add(bytes);
    USED.set(used);
    if used > limit {
        breach(limit);
    }
}

#[inline]
fn credit(bytes: usize) {
    if RENDERING.load(Ordering::Relaxed) == 0 {
        return;
    }
    if LIMIT.try_with(Cell::get).unwrap_or(0) != 0 {
        USED.set(USED.get().saturating_sub(bytes));
    }
}

/// Prints what happened and exits without unwinding (see the module's comment).
#[cold]
fn breach(limit: usize) -> ! {
    let (ptr, len) = WHAT.get();
    // Disarmed first: the message below allocates, through this same allocator.
    LIMIT.set(0);
    // SAFETY: `within` stored the pointer and length of a `&str` that outlives the render,
    // and the render is still running (this is one of its allocations).
    let source = if ptr.is_null() {
        ""
    } else {
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr, len)) }
    };
    let started = RUNS_STARTED.load(Ordering::Relaxed);
    let message = breach_message(source, limit as u64, started);
    // SAFETY: write(2) of a buffer we own to stderr; the result is ignored (nothing to do).
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
    }
    let code = if started {
        crate::exit::RUN_INCOMPLETE
    } else {
        crate::exit::INVALID_INPUT
    };
    // SAFETY: _exit ends the process at once, skipping destructors and atexit handlers that
    // could run into the state this thread was in the middle of changing.
    unsafe { libc::_exit(i32::from(code)) }
}

/// The message of a breach: which limit, which template (its start), what to do.
fn breach_message(source: &str, limit: u64, runs_started: bool) -> String {
    // Only the head is looked at: the source may be as large as a file may be.
    let head_end = (0..=source.len().min(400))
        .rev()
        .find(|&i| source.is_char_boundary(i))
        .unwrap_or(0);
    let start = crate::text::one_line(&source[..head_end], 80);
    let after = if runs_started {
        "; finished runs are kept in the journal: fix the template and rerun with --resume"
    } else {
        ""
    };
    format!(
        "error: a template render needed more than `run.limits.max_render_memory` ({}) — \
         does it build ever larger strings or lists, such as `{{% set ns.s = ns.s ~ ns.s %}}` \
         in a loop? The template: `{start}`{after}\n",
        crate::limits::format_size(limit)
    )
}

// SAFETY: every call is passed on to the system allocator unchanged; the accounting around it
// touches only this thread's cells.
unsafe impl GlobalAlloc for Budgeted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        credit(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            charge(new_size - layout.size());
        } else {
            credit(layout.size() - new_size);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_is_charged_for_what_it_holds_and_credited_what_it_frees() {
        let held = within(1 << 30, "t", || {
            let big = vec![1u8; 8 << 20];
            let with_big = USED.get();
            drop(big);
            (with_big, USED.get())
        });
        assert!(held.0 >= 8 << 20, "{held:?}");
        assert!(held.1 < 1 << 20, "{held:?}");
        // Disarmed after the render: allocations are no longer counted.
        let _after = vec![0u8; 1 << 20];
        assert_eq!((LIMIT.get(), USED.get()), (0, 0));
    }

    #[test]
    fn growth_by_realloc_is_charged_and_nested_renders_share_the_outer_budget() {
        let used = within(1 << 30, "outer", || {
            let mut s = String::new();
            within(1, "inner", || {
                for _ in 0..(4 << 20) {
                    s.push('x');
                }
            });
            USED.get()
        });
        assert!(used >= 4 << 20, "{used}");
    }

    #[test]
    fn the_message_names_the_limit_and_the_template_start_and_resume_once_running() {
        let long = format!("{{% for i in range(40) %}}\n{}", "x".repeat(200));
        let m = breach_message(&long, 128 << 20, false);
        assert!(
            m.contains("`run.limits.max_render_memory` (128 MiB)"),
            "{m}"
        );
        assert!(m.contains("{% for i in range(40) %}"), "{m}");
        assert!(!m.contains(&"x".repeat(100)), "{m}");
        assert!(!m.contains("--resume"), "{m}");
        assert!(breach_message("ü".repeat(100).as_str(), 1, true).contains("--resume"));
    }
}
