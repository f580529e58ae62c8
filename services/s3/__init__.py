"""The S3 client: `S3Client`, `AsyncS3Client` (see `services.client("s3")`)."""

from __future__ import annotations
