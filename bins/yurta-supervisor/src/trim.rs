//! Giving back memory before going idle. After start-up (argument parsing,
//! running the runtime) the process has touched code it will not run again
//! for the container's whole life. Read-only segments of the loaded objects
//! are dropped from the page tables (MADV_DONTNEED: the pages stay in the
//! page cache, shared, and fault back in when used), and free heap pages
//! go back to the kernel (malloc_trim). Writable segments are never
//! touched: their private pages hold state (relocations, data).
//!
//! `YURTA_SUPERVISOR_NO_TRIM=1` turns this off, to measure without it.

use std::ffi::c_void;

/// Whether trimming is on (read once at start-up).
pub fn enabled() -> bool {
    std::env::var_os("YURTA_SUPERVISOR_NO_TRIM").is_none_or(|v| v != "1")
}

pub fn release() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    // SAFETY: the callback only reads the program headers the loader passes.
    unsafe { libc::dl_iterate_phdr(Some(drop_readonly), std::ptr::null_mut()) };
}

/// dl_iterate_phdr callback: MADV_DONTNEED over each non-writable PT_LOAD
/// segment of one object (the vDSO excepted).
unsafe extern "C" fn drop_readonly(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    _data: *mut c_void,
) -> libc::c_int {
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
        let start = (info.dlpi_addr as usize + ph.p_vaddr as usize) & !(page - 1);
        let end =
            (info.dlpi_addr as usize + (ph.p_vaddr + ph.p_memsz) as usize).div_ceil(page) * page;
        // SAFETY: a read-only, file-backed segment of a loaded object: dropping
        // its pages loses nothing, they are read back from the file on access.
        unsafe { libc::madvise(start as *mut c_void, end - start, libc::MADV_DONTNEED) };
    }
    0
}
