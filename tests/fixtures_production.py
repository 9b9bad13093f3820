"""Fixtures for the production tests: a local S3-compatible server (moto's, on 127.0.0.1)."""

import uuid

import pytest

from conftest import free_port

S3_KEYS = {"S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test", "S3_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3-compatible server in a thread on a free loopback port; yields its URL."""
    server_module = pytest.importorskip("moto.server")
    port = free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server):
    """A new, empty bucket on the S3 server; yields the settings that point the blog at it."""
    import boto3

    name = f"blog-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=name)
    yield {"S3_BUCKET": name, "S3_ENDPOINT_URL": s3_server, "S3_PREFIX": "uploads/", **S3_KEYS}
