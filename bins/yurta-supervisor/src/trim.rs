//! Giving back memory before going idle. Start-up (argument parsing,
//! running the runtime) and bursts of output touch code the supervisor
//! then does not run for a long time, and the kernel maps file pages 64 KiB
//! at a time around each fault ("fault-around"), so most of the binary ends
//! up resident. Before sleeping, the read-only segments of the loaded
//! objects are dropped from the page tables (MADV_DONTNEED: the pages stay
//! in the page cache, shared by all supervisors, and fault back in when
//! used), and free heap pages go back to the kernel (malloc_trim).
//! Writable segments and RELRO are never touched: their private pages hold
//! state (data, relocations).
//!
//! `YURTA_SUPERVISOR_NO_TRIM=1` turns this off, to measure without it.

use std::ffi::c_void;

const MAX_RANGES: usize = 16;

/// The read-only ranges to drop, found once at start-up.
pub struct Trim {
    ranges: [(usize, usize); MAX_RANGES],
    len: usize,
}

impl Trim {
    /// None when `YURTA_SUPERVISOR_NO_TRIM=1`.
    pub fn new() -> Option<Trim> {
        if std::env::var_os("YURTA_SUPERVISOR_NO_TRIM").is_some_and(|v| v == "1") {
            return None;
        }
        let mut t = Trim {
            ranges: [(0, 0); MAX_RANGES],
            len: 0,
        };
        // SAFETY: the callback only reads the program headers the loader
        // passes and writes into `t`, which outlives the call.
        unsafe { libc::dl_iterate_phdr(Some(collect), (&mut t as *mut Trim).cast()) };
        Some(t)
    }

    /// Returns free heap pages (after start-up: the runtime's output, args).
    pub fn heap(&self) {
        #[cfg(target_env = "gnu")]
        // SAFETY: malloc_trim only returns free heap memory to the kernel.
        unsafe {
            libc::malloc_trim(0);
        }
    }

    /// Drops the read-only pages; called right before sleeping in poll, so
    /// little code runs (and faults back in) between the two.
    #[inline(never)]
    pub fn pages(&self) {
        for &(start, len) in &self.ranges[..self.len] {
            // SAFETY: a read-only, file-backed segment of a loaded object:
            // dropping its pages loses nothing, they are read back on access.
            unsafe { libc::madvise(start as *mut c_void, len, libc::MADV_DONTNEED) };
        }
    }

    fn push(&mut self, start: usize, end: usize) {
        if self.len < MAX_RANGES && end > start {
            self.ranges[self.len] = (start, end - start);
            self.len += 1;
        }
    }
}

/// dl_iterate_phdr callback: records each non-writable PT_LOAD segment of
/// one object outside its RELRO (the vDSO excepted).
unsafe extern "C" fn collect(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    data: *mut c_void,
) -> libc::c_int {
    // SAFETY: `data` is the `Trim` passed to dl_iterate_phdr.
    let t = unsafe { &mut *data.cast::<Trim>() };
    // SAFETY: the loader passes a valid dl_phdr_info for the call's duration.
    let info = unsafe { &*info };
    if !info.dlpi_name.is_null() {
        // SAFETY: dlpi_name is a NUL-terminated string when not null.
        let name = unsafe { std::ffi::CStr::from_ptr(info.dlpi_name) }.to_bytes();
        if name.windows(4).any(|w| w == b"vdso") {
            return 0;
        }
    }
    if info.dlpi_phdr.is_null() {
        return 0;
    }
    // SAFETY: dlpi_phdr points at dlpi_phnum program headers.
    let phdrs = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) };
    // SAFETY: sysconf has no memory effects.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    // Relocated after loading, then made read-only: private pages to keep.
    let relro = phdrs
        .iter()
        .find(|ph| ph.p_type == libc::PT_GNU_RELRO)
        .map(|ph| (ph.p_vaddr, ph.p_vaddr + ph.p_memsz));
    for ph in phdrs {
        if ph.p_type != libc::PT_LOAD || ph.p_flags & libc::PF_W != 0 || ph.p_memsz == 0 {
            continue;
        }
        let (lo, hi) = (ph.p_vaddr, ph.p_vaddr + ph.p_memsz);
        if relro.is_some_and(|(rlo, rhi)| lo < rhi && rlo < hi) {
            continue;
        }
        let base = info.dlpi_addr as usize;
        let start = (base + lo as usize).div_ceil(page) * page;
        let end = (base + hi as usize) & !(page - 1);
        t.push(start, end);
    }
    0
}
