//! `wasi_snapshot_preview1` on an [`engine::Linker`]: one typed host function per WASI
//! function, each calling `wasi-common`'s implementation with the guest's memory.

use anyhow::Result;
use engine::{Caller, Extern, Linker};
use wasi_common::WasiCtx;
use wasi_common::snapshots::preview_1::wasi_snapshot_preview1 as p1;
use wiggle::GuestMemory;

/// The import module name of WASI preview 1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// The caller's exported `memory` and the WASI context, borrowed together. A module that
/// exports no memory gets an empty one: the functions that take no pointers still work,
/// and every other fails with `EFAULT`-style errors from the bounds checks.
fn memory_and_ctx<'a, T: 'static>(
    caller: &'a mut Caller<'_, T>,
    get_ctx: impl Fn(&mut T) -> &mut WasiCtx,
) -> (GuestMemory<'a>, &'a mut WasiCtx) {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => {
            let (bytes, data) = memory.data_and_store_mut(caller);
            (GuestMemory::Unshared(bytes), get_ctx(data))
        }
        _ => (GuestMemory::Unshared(&mut []), get_ctx(caller.data_mut())),
    }
}

/// Runs one of `wasi-common`'s functions. They are `async` (they share their code with an
/// async implementation), but with the `sync` implementation every future is ready at its
/// first poll. The future stays on the stack (`wiggle::run_in_dummy_executor` boxes it).
fn block_on<F: std::future::Future<Output = Result<R>>, R>(future: F) -> Result<R> {
    let future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.poll(&mut cx) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => anyhow::bail!("a WASI call would block: not supported"),
    }
}

macro_rules! preview1 {
    ($( fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty $(= $adjusted:ident)?; )*) => {
        /// The names of the functions [`add_to_linker`] defines, in the order of the
        /// preview 1 specification.
        #[cfg(test)]
        pub(crate) const FUNCTIONS: &[&str] = &[$(stringify!($name)),*];

        /// Defines every function of `wasi_snapshot_preview1` on `linker`. `get_ctx` finds
        /// the [`WasiCtx`] in the store's data. A call made while no memory is exported
        /// sees an empty memory.
        pub fn add_to_linker<T: 'static>(
            linker: &mut Linker<T>,
            get_ctx: impl Fn(&mut T) -> &mut WasiCtx + Copy + Send + Sync + 'static,
        ) -> Result<()> {
            $(
                linker.func_wrap(
                    MODULE,
                    stringify!($name),
                    move |mut caller: Caller<'_, T>, $($arg: $ty),*| -> Result<$ret> {
                        let (mut memory, ctx) = memory_and_ctx(&mut caller, get_ctx);
                        preview1!(@call $name $($adjusted)?, ctx, &mut memory $(, $arg)*)
                    },
                )?;
            )*
            Ok(())
        }
    };
    (@call $name:ident, $($rest:expr),*) => { block_on(p1::$name($($rest),*)) };
    (@call $name:ident socket, $ctx:expr, $memory:expr, $fd:expr $(, $rest:expr)*) => {
        adjust::on_socket($ctx, $memory, $fd, |ctx, memory| {
            block_on(p1::$name(ctx, memory, $fd $(, $rest)*))
        })
    };
    (@call $name:ident $adjusted:ident, $($rest:expr),*) => { adjust::$adjusted($($rest),*) };
}

// The core-Wasm signatures of preview 1: handles, sizes, flags and enums are i32; 64-bit
// quantities (file sizes and offsets, timestamps, rights, cookies) are i64; a string or an
// array is a pointer and a length; results are written through trailing pointers, and the
// errno is returned.
preview1! {
    fn args_get(argv: i32, argv_buf: i32) -> i32;
    fn args_sizes_get(argc: i32, argv_buf_size: i32) -> i32;
    fn environ_get(environ: i32, environ_buf: i32) -> i32;
    fn environ_sizes_get(count: i32, buf_size: i32) -> i32;
    fn clock_res_get(id: i32, resolution: i32) -> i32;
    fn clock_time_get(id: i32, precision: i64, time: i32) -> i32;
    fn fd_advise(fd: i32, offset: i64, len: i64, advice: i32) -> i32;
    fn fd_allocate(fd: i32, offset: i64, len: i64) -> i32;
    fn fd_close(fd: i32) -> i32;
    fn fd_datasync(fd: i32) -> i32;
    fn fd_fdstat_get(fd: i32, stat: i32) -> i32;
    fn fd_fdstat_set_flags(fd: i32, flags: i32) -> i32;
    fn fd_fdstat_set_rights(fd: i32, base: i64, inheriting: i64) -> i32;
    fn fd_filestat_get(fd: i32, stat: i32) -> i32;
    fn fd_filestat_set_size(fd: i32, size: i64) -> i32;
    fn fd_filestat_set_times(fd: i32, atim: i64, mtim: i64, flags: i32) -> i32;
    fn fd_pread(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread: i32) -> i32;
    fn fd_prestat_get(fd: i32, prestat: i32) -> i32;
    fn fd_prestat_dir_name(fd: i32, path: i32, path_len: i32) -> i32;
    fn fd_pwrite(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32) -> i32;
    fn fd_read(fd: i32, iovs: i32, iovs_len: i32, nread: i32) -> i32;
    fn fd_readdir(fd: i32, buf: i32, buf_len: i32, cookie: i64, bufused: i32) -> i32;
    fn fd_renumber(fd: i32, to: i32) -> i32;
    fn fd_seek(fd: i32, offset: i64, whence: i32, new_offset: i32) -> i32;
    fn fd_sync(fd: i32) -> i32;
    fn fd_tell(fd: i32, offset: i32) -> i32;
    fn fd_write(fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) -> i32;
    fn path_create_directory(fd: i32, path: i32, path_len: i32) -> i32;
    fn path_filestat_get(fd: i32, flags: i32, path: i32, path_len: i32, stat: i32) -> i32;
    fn path_filestat_set_times(
        fd: i32, flags: i32, path: i32, path_len: i32, atim: i64, mtim: i64, fst_flags: i32
    ) -> i32;
    fn path_link(
        old_fd: i32, old_flags: i32, old_path: i32, old_path_len: i32, new_fd: i32,
        new_path: i32, new_path_len: i32
    ) -> i32;
    fn path_open(
        fd: i32, dirflags: i32, path: i32, path_len: i32, oflags: i32, base: i64,
        inheriting: i64, fdflags: i32, opened: i32
    ) -> i32 = path_open;
    fn path_readlink(
        fd: i32, path: i32, path_len: i32, buf: i32, buf_len: i32, bufused: i32
    ) -> i32;
    fn path_remove_directory(fd: i32, path: i32, path_len: i32) -> i32;
    fn path_rename(
        fd: i32, old_path: i32, old_path_len: i32, new_fd: i32, new_path: i32,
        new_path_len: i32
    ) -> i32;
    fn path_symlink(
        old_path: i32, old_path_len: i32, fd: i32, new_path: i32, new_path_len: i32
    ) -> i32;
    fn path_unlink_file(fd: i32, path: i32, path_len: i32) -> i32;
    fn poll_oneoff(subscriptions: i32, events: i32, nsubscriptions: i32, nevents: i32) -> i32;
    fn proc_exit(status: i32) -> ();
    fn proc_raise(signal: i32) -> i32;
    fn sched_yield() -> i32;
    fn random_get(buf: i32, buf_len: i32) -> i32;
    fn sock_accept(fd: i32, flags: i32, new_fd: i32) -> i32 = socket;
    fn sock_recv(
        fd: i32, ri_data: i32, ri_data_len: i32, ri_flags: i32, ro_datalen: i32,
        ro_flags: i32
    ) -> i32 = socket;
    fn sock_send(fd: i32, si_data: i32, si_data_len: i32, si_flags: i32, so_datalen: i32)
        -> i32 = socket;
    fn sock_shutdown(fd: i32, how: i32) -> i32 = socket;
}

/// Where `wasi-common` departs from what the WASI test suite and POSIX expect, the call
/// is adjusted here, around `wasi-common`'s own functions.
mod adjust {
    use super::{block_on, p1};
    use anyhow::Result;
    use wasi_common::WasiCtx;
    use wasi_common::snapshots::preview_1::types::{Errno, Fd, Filetype};
    use wasi_common::snapshots::preview_1::wasi_snapshot_preview1::WasiSnapshotPreview1;
    use wiggle::{GuestMemory, GuestPtr};

    const TRUNC: i32 = 1 << 3;
    const APPEND: i32 = 1 << 0;

    /// `O_TRUNC | O_APPEND` together is a valid POSIX open, but `wasi-common` passes both
    /// to an `OpenOptions` that rejects the pair (`EINVAL`). Open truncating, then set
    /// the append flag on the new descriptor.
    #[allow(clippy::too_many_arguments, reason = "path_open's own parameters")]
    pub fn path_open(
        ctx: &mut WasiCtx,
        memory: &mut GuestMemory<'_>,
        fd: i32,
        dirflags: i32,
        path: i32,
        path_len: i32,
        oflags: i32,
        base: i64,
        inheriting: i64,
        fdflags: i32,
        opened: i32,
    ) -> Result<i32> {
        let split = oflags & TRUNC != 0 && fdflags & APPEND != 0;
        let open_flags = if split { fdflags & !APPEND } else { fdflags };
        let errno = block_on(p1::path_open(
            ctx, memory, fd, dirflags, path, path_len, oflags, base, inheriting, open_flags, opened,
        ))?;
        if !split || errno != 0 {
            return Ok(errno);
        }
        let new_fd = memory.read(GuestPtr::<u32>::new(opened as u32))? as i32;
        let errno = block_on(p1::fd_fdstat_set_flags(ctx, memory, new_fd, fdflags))?;
        if errno != 0 {
            block_on(p1::fd_close(ctx, memory, new_fd))?;
        }
        Ok(errno)
    }

    /// `ENOTSOCK` if `fd` is open but not a socket (`wasi-common` says `EBADF`).
    fn not_a_socket(ctx: &mut WasiCtx, memory: &mut GuestMemory<'_>, fd: i32) -> Option<i32> {
        let fd = u32::try_from(fd).ok()?;
        if !ctx.table().contains_key(fd) {
            return None;
        }
        let is_socket = match block_on(async { Ok(ctx.fd_fdstat_get(memory, Fd::from(fd)).await) })
        {
            Ok(Ok(stat)) => matches!(
                stat.fs_filetype,
                Filetype::SocketStream | Filetype::SocketDgram
            ),
            _ => false,
        };
        (!is_socket).then_some(Errno::Notsock as i32)
    }

    /// Runs `call` unless `fd` is open but not a socket.
    pub fn on_socket(
        ctx: &mut WasiCtx,
        memory: &mut GuestMemory<'_>,
        fd: i32,
        call: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> Result<i32>,
    ) -> Result<i32> {
        match not_a_socket(ctx, memory, fd) {
            Some(errno) => Ok(errno),
            None => call(ctx, memory),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preview1_function_is_defined() {
        // The specification's list, from the witx document wasi-common is generated from.
        let doc = wasi_common::snapshots::preview_1::metadata::document();
        let module = doc
            .modules()
            .find(|m| m.name.as_str() == MODULE)
            .expect("the preview 1 module");
        let spec: Vec<String> = module
            .funcs()
            .map(|f| f.name.as_str().to_string())
            .collect();
        assert_eq!(spec.len(), 46);
        assert_eq!(
            FUNCTIONS,
            spec.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
}
