//! Catching traps: entering compiled code under `engine_catch_traps`, and the signal
//! handlers that turn a fault or trap instruction in compiled code into a return from it.
//!
//! A trap in compiled Wasm raises SIGILL (a trap instruction), SIGSEGV/SIGBUS (an access
//! to a memory's guard region) or SIGFPE. The handler maps the faulting PC to a `Trap` via
//! the code registry, records it with a backtrace of Wasm frames, and jumps back to the
//! innermost entry's `sigsetjmp`. Between that entry and the trap there are only compiled
//! Wasm frames (builtins and host functions report failure by return value, and compiled
//! code raises the trap after they return), so no Rust destructor is skipped.

use crate::compile::{frame_info, lookup_trap};
use crate::trap::{FrameInfo, Trap, WasmBacktrace};
use crate::vm::{VMFuncRef, VMStoreContext, ValRaw};
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr;
use std::sync::Once;

unsafe extern "C" {
    fn engine_catch_traps(
        jmp_buf_out: *mut *mut c_void,
        body: extern "C" fn(*mut c_void),
        payload: *mut c_void,
    ) -> libc::c_int;
    fn engine_unwind(jmp_buf: *mut c_void) -> !;
}

/// A trap caught by `call_entry`.
#[derive(Debug)]
pub(crate) struct TrapRecord {
    pub trap: Trap,
    pub backtrace: WasmBacktrace,
}

/// Why a call into compiled code did not return normally.
#[derive(Debug)]
pub(crate) enum Unwound {
    /// It trapped.
    Trap(TrapRecord),
    /// A Wasm exception escaped it, uncaught: the raw reference to the exception object,
    /// held by nothing (the caller must count it before anything can collect).
    Exception(u32),
}

/// The innermost active entry into compiled code on this thread.
struct CallThreadState {
    jmp_buf: Cell<*mut c_void>,
    trap: Cell<Option<TrapRecord>>,
    /// An exception that no handler of this activation caught.
    exception: Cell<Option<u32>>,
    prev: *const CallThreadState,
    /// The store entered, and its exit record from before this entry: where the Wasm
    /// frames of the enclosing activation (if any) left off when they called the host.
    store: *mut VMStoreContext,
    saved_exit_fp: usize,
    saved_exit_pc: usize,
}

thread_local! {
    static CURRENT: Cell<*const CallThreadState> = const { Cell::new(ptr::null()) };
}

/// The signature of an entry trampoline.
pub(crate) type EntryFn = unsafe extern "C" fn(*const VMFuncRef, *mut u8, *mut ValRaw);

struct Payload {
    entry: EntryFn,
    funcref: *const VMFuncRef,
    caller: *mut u8,
    values: *mut ValRaw,
}

extern "C" fn body(payload: *mut c_void) {
    // SAFETY: `call_entry` passes a pointer to a live `Payload`.
    let p = unsafe { &*payload.cast::<Payload>() };
    // SAFETY: `call_entry`'s contract makes this a valid call of the entry trampoline.
    unsafe { (p.entry)(p.funcref, p.caller, p.values) }
}

/// Calls `entry(funcref, caller, values)`, catching any trap in compiled code below it.
///
/// The first entry on a thread for a store sets the store's stack limit to `max_stack`
/// bytes below the current stack pointer.
///
/// # Safety
/// `entry` must be the entry trampoline for the type of `*funcref`, `funcref` a live
/// function reference of the store whose context is `store`, and `values` must hold
/// `max(params, results)` slots with the arguments in place.
pub(crate) unsafe fn call_entry(
    store: *mut VMStoreContext,
    max_stack: usize,
    entry: EntryFn,
    funcref: *const VMFuncRef,
    caller: *mut u8,
    values: *mut ValRaw,
) -> Result<(), Unwound> {
    init_handlers();
    ensure_sigaltstack();
    // SAFETY: the caller guarantees `store` is live.
    let (saved_exit_fp, saved_exit_pc) = unsafe { ((*store).last_exit_fp, (*store).last_exit_pc) };
    let state = CallThreadState {
        jmp_buf: Cell::new(ptr::null_mut()),
        trap: Cell::new(None),
        exception: Cell::new(None),
        prev: CURRENT.with(|c| c.get()),
        store,
        saved_exit_fp,
        saved_exit_pc,
    };
    // SAFETY: as above.
    unsafe {
        (*store).last_exit_fp = 0;
        (*store).last_exit_pc = 0;
    }
    // SAFETY: as above.
    let old_limit = unsafe { (*store).stack_limit };
    if old_limit == usize::MAX {
        let here = &state as *const _ as usize;
        // Never below what the thread's own stack can take, with room left for host code
        // called from Wasm and for the trap handler.
        let floor = thread_stack_low().map_or(0, |low| low + HOST_STACK_RESERVE);
        // SAFETY: as above.
        unsafe { (*store).stack_limit = here.saturating_sub(max_stack).max(floor) };
    }
    CURRENT.with(|c| c.set(&state));
    let mut payload = Payload {
        entry,
        funcref,
        caller,
        values,
    };
    // SAFETY: `body` only calls the entry trampoline (per this function's contract); the
    // jump buffer is published through `state.jmp_buf` before `body` runs.
    let ok = unsafe {
        engine_catch_traps(
            state.jmp_buf.as_ptr(),
            body,
            (&mut payload as *mut Payload).cast(),
        )
    };
    CURRENT.with(|c| c.set(state.prev));
    // SAFETY: as above.
    unsafe {
        (*store).stack_limit = old_limit;
        (*store).last_exit_fp = state.saved_exit_fp;
        (*store).last_exit_pc = state.saved_exit_pc;
    }
    if ok != 0 {
        Ok(())
    } else if let Some(exn) = state.exception.take() {
        Err(Unwound::Exception(exn))
    } else {
        Err(Unwound::Trap(state.trap.take().expect(
            "a trap or an exception was recorded before unwinding",
        )))
    }
}

/// Where a thrown exception resumes: a handler in a Wasm frame.
#[derive(Clone, Copy, Debug)]
struct HandlerTarget {
    pc: usize,
    sp: usize,
    fp: usize,
}

/// Throws exception `exn`, thrown with the tag whose identity is `tag`, from the innermost
/// activation of the store whose context is `vm`, whose last exit record names the Wasm
/// frame the throw starts from: resumes at the first handler, innermost frame first, that
/// catches it, or, if none does, returns from the activation's `call_entry` with
/// [`Unwound::Exception`].
///
/// # Safety
/// Must be called from host code reached from Wasm through a trampoline that recorded the
/// exit frame, on the thread running that Wasm, with every Rust frame between the call
/// and that Wasm owning nothing that needs dropping: they are abandoned. `exn` must be an
/// exception object of the store's heap.
pub(crate) unsafe fn throw(vm: *const VMStoreContext, exn: u32, tag: u32) -> ! {
    // SAFETY: per the contract, `vm` is live and its exit record names suspended Wasm.
    let target = unsafe { find_handler(vm, tag) };
    match target {
        // SAFETY: the target is a handler of a live Wasm frame of this activation, below
        // which only abandonable frames lie; its exception payload is the reference.
        Some(t) => unsafe { resume(t, exn as usize) },
        None => {
            let state = CURRENT.with(|c| c.get());
            assert!(!state.is_null(), "an exception thrown outside any entry");
            // SAFETY: `state` is the live innermost entry on this thread; only frames the
            // contract lets us abandon lie between it and here.
            unsafe {
                (*state).exception.set(Some(exn));
                engine_unwind((*state).jmp_buf.get())
            }
        }
    }
}

/// The handler of the innermost activation's Wasm frames that catches exceptions of the tag
/// whose identity is `tag`, if any.
///
/// # Safety
/// As for `throw`.
unsafe fn find_handler(vm: *const VMStoreContext, tag: u32) -> Option<HandlerTarget> {
    // SAFETY: per the contract.
    let vm = unsafe { &*vm };
    let (mut pc, mut fp) = (vm.last_exit_pc, vm.last_exit_fp);
    while fp != 0 {
        let found = crate::compile::handlers_at(pc, |frame_offset, handlers, tags_offset| {
            let sp = fp - frame_offset as usize;
            for (handler_tag, context, handler) in handlers {
                let catches = match (handler_tag, context) {
                    (None, _) => true,
                    (Some(t), Some(context)) => {
                        // SAFETY: the slot is the frame's spill of its `VMContext`, live
                        // while the frame is suspended; the tag slots are in bounds
                        // because the frame's module declares tag `t`.
                        let id = unsafe {
                            let vmctx = *((sp + context as usize) as *const usize);
                            *((vmctx + tags_offset as usize + 4 * t as usize) as *const u32)
                        };
                        id == tag
                    }
                    (Some(_), None) => false,
                };
                if catches {
                    return Some(HandlerTarget {
                        pc: handler,
                        sp,
                        fp,
                    });
                }
            }
            None
        });
        match found {
            // Not a Wasm frame: the activation's Wasm frames end here.
            None => return None,
            Some(Some(Some(target))) => return Some(target),
            Some(_) => {}
        }
        // SAFETY: compiled code keeps frame pointers: [fp] is the caller's frame pointer
        // and [fp + 8] the return address into it.
        unsafe {
            pc = *((fp + 8) as *const usize);
            fp = *(fp as *const usize);
        }
    }
    None
}

/// Jumps to `target` with `payload` in the first exception payload register, abandoning
/// every frame below the target's.
///
/// # Safety
/// `target` must be a handler of a live Wasm frame of the calling thread's stack, found
/// through a `try_call` whose callee uses the tail or preserve-all convention (so the
/// handler assumes no register but SP, FP and the payloads), and no frame below it may own
/// anything that needs dropping.
unsafe fn resume(target: HandlerTarget, payload: usize) -> ! {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: per the contract; sets the handler's stack and frame pointers, the payload
    // registers (rax, rdx) and jumps, never returning.
    unsafe {
        std::arch::asm!(
            "mov rsp, {sp}",
            "mov rbp, {fp}",
            "jmp {pc}",
            sp = in(reg) target.sp,
            fp = in(reg) target.fp,
            pc = in(reg) target.pc,
            in("rax") payload,
            in("rdx") 0usize,
            options(noreturn, nostack),
        )
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: as above, with the aarch64 payload registers (x0, x1).
    unsafe {
        std::arch::asm!(
            "mov sp, {sp}",
            "mov x29, {fp}",
            "br {pc}",
            sp = in(reg) target.sp,
            fp = in(reg) target.fp,
            pc = in(reg) target.pc,
            in("x0") payload,
            in("x1") 0usize,
            options(noreturn, nostack),
        )
    }
}

/// Stack kept free below Wasm's limit for host functions, builtins and signal handling.
const HOST_STACK_RESERVE: usize = 128 * 1024;

/// The lowest address of this thread's stack, if the system reports it.
fn thread_stack_low() -> Option<usize> {
    thread_local! {
        static LOW: Cell<Option<usize>> = const { Cell::new(None) };
    }
    if let Some(low) = LOW.with(|l| l.get()) {
        return Some(low);
    }
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before use and destroyed after.
    let low = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut c_void = ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            return None;
        }
        addr as usize
    };
    LOW.with(|l| l.set(Some(low)));
    Some(low)
}

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

static mut PREVIOUS: [Option<libc::sigaction>; 4] = [None; 4];

fn init_handlers() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // Record every previous action before installing any handler of ours, so that a
        // handler never reads `PREVIOUS` while it is being written.
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: querying the current action into a zeroed sigaction; `PREVIOUS` is
            // written only here, under `Once`, before our handlers are installed.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, ptr::null(), &mut old) == 0 {
                    (*ptr::addr_of_mut!(PREVIOUS))[i] = Some(old);
                }
            }
        }
        for &sig in &SIGNALS {
            // SAFETY: installing a handler with a zeroed, then filled, sigaction.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, ptr::null_mut());
            }
        }
    });
}

/// Program counter and frame pointer at the time of the signal.
///
/// # Safety
/// `ctx` must be the `ucontext_t` passed to a signal handler.
unsafe fn pc_and_fp(ctx: *mut c_void) -> (usize, usize) {
    let uc = ctx.cast::<libc::ucontext_t>();
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    // SAFETY: per the contract, `uc` is a valid ucontext.
    unsafe {
        let gregs = &(*uc).uc_mcontext.gregs;
        (
            gregs[libc::REG_RIP as usize] as usize,
            gregs[libc::REG_RBP as usize] as usize,
        )
    }
    #[cfg(all(target_os = "linux", target_arch = "aarch64"))]
    // SAFETY: per the contract, `uc` is a valid ucontext.
    unsafe {
        let mc = &(*uc).uc_mcontext;
        (mc.pc as usize, mc.regs[29] as usize)
    }
}

unsafe extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let state = CURRENT.with(|c| c.get());
    if !state.is_null() {
        // SAFETY: the kernel passes a valid ucontext.
        let (pc, fp) = unsafe { pc_and_fp(ctx) };
        if let Some(trap) = lookup_trap(pc) {
            // SAFETY: `fp` is the frame pointer of compiled code, which keeps frame pointers.
            let backtrace = unsafe { walk_frames(pc, fp) };
            // SAFETY: `state` is the live innermost entry on this thread.
            let state = unsafe { &*state };
            state.trap.set(Some(TrapRecord { trap, backtrace }));
            // SAFETY: the jump buffer belongs to the live `engine_catch_traps` frame of
            // this entry; only compiled code frames lie in between.
            unsafe { engine_unwind(state.jmp_buf.get()) }
        }
    }
    // Not ours: hand the signal to whoever had it before.
    let i = SIGNALS
        .iter()
        .position(|&s| s == sig)
        .expect("a signal we registered");
    // SAFETY: `PREVIOUS` is only written before handlers are installed.
    let previous = unsafe { (*ptr::addr_of!(PREVIOUS))[i] };
    // SAFETY: re-installing or calling the previous action as the kernel would have.
    unsafe {
        match previous {
            Some(prev)
                if prev.sa_sigaction != libc::SIG_DFL && prev.sa_sigaction != libc::SIG_IGN =>
            {
                if prev.sa_flags & libc::SA_SIGINFO != 0 {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
                        std::mem::transmute(prev.sa_sigaction);
                    f(sig, info, ctx);
                } else {
                    let f: extern "C" fn(libc::c_int) = std::mem::transmute(prev.sa_sigaction);
                    f(sig);
                }
            }
            _ => {
                // Restore the default action. A fault re-executes the faulting instruction on
                // return and terminates the process as it would have; a signal sent by a
                // process (`si_code <= 0`) is raised again to get the same effect.
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &action, ptr::null_mut());
                if !info.is_null() && (*info).si_code <= 0 {
                    libc::raise(sig);
                }
            }
        }
    }
}

/// At most this many frames are recorded in a backtrace.
const MAX_FRAMES: usize = 4096;

/// Walks frame pointers from a trap at `pc` with frame pointer `fp` through compiled code.
///
/// # Safety
/// `fp` must be the frame pointer of the compiled-code frame containing `pc`.
unsafe fn walk_frames(pc: usize, mut fp: usize) -> WasmBacktrace {
    let mut frames: Vec<FrameInfo> = Vec::new();
    frames.extend(frame_info(pc));
    while fp != 0 && frames.len() < MAX_FRAMES {
        // SAFETY: compiled code keeps frame pointers: [fp] is the caller's fp and
        // [fp + 8] the return address, for every compiled frame.
        let (caller_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if !crate::compile::is_code_pc(ret) {
            break;
        }
        frames.extend(frame_info(ret - 1));
        fp = caller_fp;
    }
    WasmBacktrace::new(frames)
}

/// Adds to `roots` every GC reference slot in the Wasm frames of `store` on this thread,
/// found with the stack maps of the frames' call sites.
///
/// # Safety
/// Must be called from host code reached from Wasm through a trampoline that recorded the
/// exit frame (or with no Wasm of this store active). The slots stay valid only while that
/// Wasm code is suspended; `roots` must not be used after it resumes.
pub(crate) unsafe fn wasm_stack_roots(store: &VMStoreContext, roots: &mut gc_core::GcRootsList) {
    let mut exit = (store.last_exit_pc, store.last_exit_fp);
    let mut state = CURRENT.with(|c| c.get());
    loop {
        let (mut pc, mut fp) = exit;
        while fp != 0 && crate::compile::is_wasm_pc(pc) {
            crate::compile::stack_map_at(pc, |span, slots| {
                let sp = fp - span as usize;
                for &offset in slots {
                    let slot = (sp + offset as usize) as *mut u32;
                    // SAFETY: the stack map describes live slots of this suspended frame.
                    if unsafe { slot.read() } != 0 {
                        // SAFETY: as above; the slot outlives the collection.
                        unsafe { roots.add_wasm_stack_root(ptr::NonNull::new_unchecked(slot)) };
                    }
                }
            });
            // SAFETY: compiled code keeps frame pointers: [fp] is the caller's frame pointer
            // and [fp + 8] the return address into it.
            unsafe {
                pc = *((fp + 8) as *const usize);
                fp = *(fp as *const usize);
            }
        }
        // The enclosing activation of the same store, if any.
        loop {
            if state.is_null() {
                return;
            }
            // SAFETY: entries on the chain are live frames of `call_entry` on this thread.
            let s = unsafe { &*state };
            state = s.prev;
            if ptr::eq(s.store, store) {
                exit = (s.saved_exit_pc, s.saved_exit_fp);
                break;
            }
        }
    }
}

/// Size of the alternate signal stack this engine installs.
const ALT_STACK_SIZE: usize = 128 * 1024;

struct AltStack {
    mapping: *mut c_void,
    size: usize,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: disable the alternate stack before unmapping it; it was mapped by us.
        unsafe {
            let ss = libc::stack_t {
                ss_sp: ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            libc::sigaltstack(&ss, ptr::null_mut());
            libc::munmap(self.mapping, self.size);
        }
    }
}

thread_local! {
    static ALT_STACK_READY: Cell<bool> = const { Cell::new(false) };
    static ALT_STACK_OWNER: std::cell::RefCell<Option<AltStack>> = const { std::cell::RefCell::new(None) };
}

/// Makes sure this thread has an alternate signal stack big enough for our handler.
fn ensure_sigaltstack() {
    if ALT_STACK_READY.with(|c| c.get()) {
        return;
    }
    // SAFETY: querying the current alternate stack.
    let mut old: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::sigaltstack(ptr::null(), &mut old) };
    if old.ss_flags & libc::SS_DISABLE == 0 && old.ss_size >= ALT_STACK_SIZE {
        ALT_STACK_READY.with(|c| c.set(true));
        return;
    }
    let page = 4096;
    let size = ALT_STACK_SIZE + page;
    // SAFETY: a fresh anonymous mapping; the lowest page becomes a guard.
    let mapping = unsafe {
        libc::mmap(
            ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if mapping == libc::MAP_FAILED {
        return;
    }
    // SAFETY: the guard page and the stack lie within the mapping just made.
    unsafe {
        libc::mprotect(mapping, page, libc::PROT_NONE);
        let ss = libc::stack_t {
            ss_sp: mapping.cast::<u8>().add(page).cast(),
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        libc::sigaltstack(&ss, ptr::null_mut());
    }
    ALT_STACK_OWNER.with(|o| *o.borrow_mut() = Some(AltStack { mapping, size }));
    ALT_STACK_READY.with(|c| c.set(true));
}
