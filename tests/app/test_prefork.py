"""blog.prefork: the master fills its C heap's holes before forking the workers (wsgi.py)."""

import subprocess
import sys

import pytest

from blog import prefork
from conftest import ROOT

HOLES = """
import ctypes
from blog import prefork

libc = prefork._glibc()
blocks = [libc.malloc(size) for size in range(40, 4000, 3) for _ in range(3)]
for block in blocks[::2]:
    libc.free(block)  # a hole between two blocks still in use
before = libc.mallinfo2().fordblks
taken = prefork.fill_heap_holes()
after = libc.mallinfo2()
print(taken, before, after.fordblks - after.keepcost, after.ordblks)
"""


@pytest.mark.skipif(prefork._glibc() is None, reason="glibc 2.33+ only")
def test_every_hole_in_the_heap_is_taken_and_the_heap_hardly_grows():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", HOLES], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    taken, free_before, free_in_holes, free_chunks = map(int, out.stdout.split())
    assert taken >= 1900 and free_before > 1_000_000
    assert free_in_holes < 4096 and free_chunks <= 2  # what is free is the heap's top


def test_without_glibc_nothing_is_done(monkeypatch):
    monkeypatch.setattr(prefork, "_glibc", lambda: None)
    assert prefork.fill_heap_holes() == 0


def test_chunk_sizes_go_down_to_the_smallest_chunk_in_steps_of_at_most_an_eighth():
    sizes = prefork._chunk_sizes()
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 32 and sizes[0] < 128 * 1024
    assert all(a - b <= max(16, a // 8) for a, b in zip(sizes, sizes[1:], strict=False))
    assert all(size % 16 == 0 for size in sizes)
