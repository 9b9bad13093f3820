"""What the gunicorn master does to its C heap before forking the workers (wsgi.py).

Workers forked from the master share its memory until they write to it. Building the app and
warming it up leave about 1,600 free chunks (1.7 MB) scattered through glibc's heap, in pages
full of live objects every process shares. A worker's malloc reuses those holes first, and each
one it fills copies a shared page into the worker: measured, a third of each worker's copied
heap. fill_heap_holes takes every such hole in the master, before the fork, and keeps it, so a
worker's allocations come from the top of the heap instead, packed into pages of its own.

glibc only (mallinfo2, glibc 2.33+); anywhere else it does nothing.
"""

import ctypes
import ctypes.util

# Requests below this go to the heap; at or above it glibc maps memory of their own (its
# default M_MMAP_THRESHOLD), so larger holes are filled with blocks of this size.
_LARGEST = 128 * 1024
_SIZE_T = ctypes.sizeof(ctypes.c_size_t)  # a chunk's size field: malloc(n) takes n + this


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",  # bytes the heap holds from the system (brk)
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",  # the free top of the heap, in bytes
        )
    ]


def _glibc():
    """The C library's malloc, free and mallinfo2, or None if it is not glibc 2.33+."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        return None
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


def _chunk_sizes() -> list[int]:
    """Chunk sizes to fill holes with, largest first: every size glibc uses up to 1 KiB, then
    steps of an eighth (what a step leaves over is filled by the smaller sizes after it)."""
    sizes = list(range(32, 1024, 16))
    size = 1024
    while size < _LARGEST:
        sizes.append(size)
        size = (size + size // 8) // 16 * 16
    return sorted(sizes, reverse=True)


def fill_heap_holes(limit: int = 50_000) -> int:
    """Allocate, and never free, every free chunk of this process's C heap; return how many.

    Largest first: malloc a block of each size for as long as it comes from a hole, that is
    while the heap's top and size stay the same; the first block taken from the top is freed
    (it merges back) and the next smaller size goes on. Meant for a process that is about to
    fork and will allocate no more itself, with no other thread running (glibc gives other
    threads heaps of their own)."""
    libc = _glibc()
    if libc is None:
        return 0
    taken = 0
    for chunk in _chunk_sizes():
        while taken < limit:
            before = libc.mallinfo2()
            block = libc.malloc(chunk - _SIZE_T)
            if not block:
                return taken
            after = libc.mallinfo2()
            if (after.arena, after.keepcost) != (before.arena, before.keepcost):
                libc.free(block)  # from the top: no hole of this size is left
                break
            taken += 1
    return taken
