"""blog.gunicorn_sync.SyncWorker under a real gunicorn: it closes a finished bodiless request's
connection at once, and keeps gunicorn's lingering close wherever a reset could cost the client
its response (a request body left unread, bytes sent behind the request, TLS that gunicorn
terminates itself)."""

import shutil
import socket
import ssl
import subprocess
import sys
import time

import pytest

from conftest import ROOT

APP = """
import time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(0.5)
    body = b"<p>" + b"x" * 20000 + b"</p>"  # bigger than one segment
    if environ["REQUEST_METHOD"] == "POST":  # answered without reading the body
        start_response("413 Content Too Large", [("Content-Length", str(len(body)))])
    else:
        start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


def start(folder, *options):
    """gunicorn with one worker of the class under test on a free port, serving APP from
    folder; returns (process, (host, port)) once it accepts connections."""
    (folder / "tiny.py").write_text(APP)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "blog.gunicorn_sync.SyncWorker"]
        + ["-b", f"127.0.0.1:{port}", "--chdir", str(folder), *options, "tiny:app"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, ("127.0.0.1", port)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    f"gunicorn did not start: {process.stderr.read().decode()}"
                ) from None
            time.sleep(0.05)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process, address = start(tmp_path_factory.mktemp("worker"))
    yield address
    process.terminate()
    process.wait(timeout=10)


def exchange(address, request: bytes) -> tuple[socket.socket, bytes]:
    """Send request, read until the server's FIN; return the still-open socket and the bytes."""
    client = socket.create_connection(address, timeout=5)
    client.sendall(request)
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    return client, received


def server_has_closed(client: socket.socket) -> bool:
    """Tell whether the server closed its socket (a byte sent then draws a reset) rather than
    only its sending side while it lingers, reading and dropping what arrives."""
    deadline = time.monotonic() + 1.5  # under gunicorn's own 2 s linger
    try:
        while time.monotonic() < deadline:
            client.sendall(b"x")
            time.sleep(0.05)
    except (ConnectionResetError, BrokenPipeError):
        return True
    return False


def complete(response: bytes, status: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    return head.startswith(b"HTTP/1.1 " + status) and body == b"<p>" + b"x" * 20000 + b"</p>"


def test_a_get_is_answered_whole_and_its_connection_closed_at_once(server):
    client, response = exchange(server, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    with client:
        assert complete(response, b"200")
        assert server_has_closed(client)  # the worker is not held until the client closes


def test_a_body_left_unread_keeps_the_lingering_close_and_the_response(server):
    body = b"y" * 2_000_000  # far more than the socket buffers hold
    head = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body)
    client = socket.create_connection(server, timeout=5)
    with client:
        client.sendall(head + body)  # completes only because the server drains what it left
        received = b""
        while chunk := client.recv(65536):
            received += chunk
        assert complete(received, b"413")


def test_pipelined_requests_get_the_first_response_whole(server):
    request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    client, response = exchange(server, request * 2)
    with client:
        assert complete(response, b"200")  # the one answered (gunicorn's sync worker closes)
        assert response.count(b"HTTP/1.1") == 1


def test_bytes_sent_while_the_page_renders_keep_the_lingering_close(server):
    client = socket.create_connection(server, timeout=5)
    with client:
        client.sendall(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.2)  # the worker has read the request and is rendering
        client.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        received = b""
        while chunk := client.recv(65536):
            received += chunk
        assert complete(received, b"200")
        assert not server_has_closed(client)  # bytes were waiting: it lingers, no reset


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl to make a certificate")
def test_tls_that_gunicorn_terminates_is_answered_whole(tmp_path):
    """With --certfile the worker's client is an SSLSocket, which takes no recv flags: such
    connections keep gunicorn's own close, and the response is whole with nothing after it."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    process, address = start(
        tmp_path, "--certfile", str(tmp_path / "cert.pem"), "--keyfile", str(tmp_path / "key.pem")
    )
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        for _ in range(3):
            with context.wrap_socket(
                socket.create_connection(address, timeout=5), server_hostname="127.0.0.1"
            ) as client:
                client.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                received = b""
                try:
                    while chunk := client.recv(65536):
                        received += chunk
                except ssl.SSLError:  # a close without TLS's close_notify ends the stream too
                    pass
            assert complete(received, b"200")
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert b"Error handling request" not in errors and b"Traceback" not in errors, errors
