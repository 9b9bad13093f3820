"""Where uploaded files live: the instance folder by default, S3-compatible object storage when
S3_BUCKET is set, so several app servers share one set of images.

Both stores take and give whole files by name (names are ours: blog.images generates them);
files are small (re-encoded images), so bytes in memory are fine. Readers always fetch them
from the blog at /uploads/<name>, whichever store holds them: the Content-Security-Policy
stays `img-src 'self'` and no third-party host appears in a page.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from flask import Flask, current_app


class LocalStorage:
    """Files in a folder on this machine (instance/<UPLOAD_FOLDER>)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, name: str, data: bytes, content_type: str) -> None:
        """Store data under name, atomically (written aside, then renamed into place)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        draft = self.folder / f".{name}.{os.getpid()}.tmp"
        try:
            draft.write_bytes(data)
            os.replace(draft, self.folder / name)
        finally:
            draft.unlink(missing_ok=True)

    def get(self, name: str) -> bytes | None:
        """Return the file's bytes, or None when there is no such file."""
        try:
            return (self.folder / name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def path(self, name: str) -> Path | None:
        """Return the file's path on disk (local storage only), or None."""
        path = self.folder / name
        return path if path.is_file() else None

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        """Every stored name (for backups)."""
        if self.folder.is_dir():
            for path in sorted(self.folder.iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    yield path.name


class S3Storage:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Garage, Ceph, R2...), via boto3."""

    def __init__(self, bucket: str, prefix: str = "", **client_options) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client("s3", **{k: v for k, v in client_options.items() if v})

    def put(self, name: str, data: bytes, content_type: str) -> None:
        """Store data under name (an S3 PUT is atomic: readers see all of it or none)."""
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.prefix + name,
            Body=data,
            ContentType=content_type,
            CacheControl="public, max-age=31536000, immutable",
        )

    def get(self, name: str) -> bytes | None:
        """Return the object's bytes, or None when there is no such object."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + name)
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def path(self, name: str) -> None:
        return None

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + name)

    def names(self) -> Iterator[str]:
        """Every stored name (for backups)."""
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :]


def make_storage(app: Flask) -> LocalStorage | S3Storage:
    """Build the store the config names: S3_BUCKET set means object storage."""
    cfg = app.config
    if cfg.get("S3_BUCKET"):
        return S3Storage(
            cfg["S3_BUCKET"],
            cfg.get("S3_PREFIX") or "",
            endpoint_url=cfg.get("S3_ENDPOINT_URL"),
            region_name=cfg.get("S3_REGION"),
            aws_access_key_id=cfg.get("S3_ACCESS_KEY_ID"),
            aws_secret_access_key=cfg.get("S3_SECRET_ACCESS_KEY"),
        )
    return LocalStorage(Path(app.instance_path) / cfg["UPLOAD_FOLDER"])


def storage() -> LocalStorage | S3Storage:
    """Return this app's upload store (built on first use, once per process)."""
    store = current_app.extensions.get("upload_storage")
    if store is None or store[0] != os.getpid():  # boto3 clients are not shared across fork
        store = current_app.extensions["upload_storage"] = (os.getpid(), make_storage(current_app))
    return store[1]
