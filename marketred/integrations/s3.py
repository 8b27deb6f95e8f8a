"""A minimal client of an S3-compatible bucket (AWS S3, MinIO, Ceph, R2...): put, get and
create the bucket, signed with AWS Signature Version 4, over the process's httpx client.

Why not boto3: three calls do not justify ~80 MB of SDK in every image; SigV4 is a short,
well-specified algorithm, and the tests run it against a real S3 implementation (moto's
server), not a mock of this class.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlparse

import httpx


class S3Error(RuntimeError):
    pass


@dataclass(frozen=True)
class S3Config:
    endpoint: str  # e.g. https://s3.us-east-1.amazonaws.com or http://127.0.0.1:9000
    bucket: str
    region: str
    access_key: str
    secret_key: str


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class S3Client:
    def __init__(self, config: S3Config, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http
        self._host = urlparse(config.endpoint).netloc

    def _url_path(self, key: str | None) -> str:
        path = f"/{quote(self.config.bucket, safe='')}"
        return f"{path}/{quote(key, safe='/-_.~')}" if key else path

    def _headers(self, method: str, path: str, payload: bytes, now: datetime) -> dict[str, str]:
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        payload_hash = hashlib.sha256(payload).hexdigest()
        headers = {"host": self._host, "x-amz-content-sha256": payload_hash,
                   "x-amz-date": amz_date}  # fmt: skip
        signed = ";".join(sorted(headers))
        canonical = "\n".join(
            [method, path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed,
             payload_hash]
        )  # fmt: skip
        scope = f"{day}/{self.config.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = _hmac(f"AWS4{self.config.secret_key}".encode(), day)
        for part in (self.config.region, "s3", "aws4_request"):
            key = _hmac(key, part)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.config.access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        del headers["host"]  # httpx sends it
        return headers

    async def _call(self, method: str, key: str | None, body: bytes = b"",
                    extra: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
        path = self._url_path(key)
        headers = {**self._headers(method, path, body, datetime.now(UTC)), **(extra or {})}
        return await self.http.request(
            method, self.config.endpoint.rstrip("/") + path, content=body, headers=headers
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        r = await self._call("PUT", key, data, {"content-type": content_type})
        if r.status_code != 200:
            raise S3Error(f"PUT {key}: {r.status_code} {r.text[:200]}")

    async def get(self, key: str) -> tuple[bytes, str] | None:
        r = await self._call("GET", key)
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise S3Error(f"GET {key}: {r.status_code} {r.text[:200]}")
        return r.content, r.headers.get("content-type", "application/octet-stream")

    async def create_bucket(self) -> None:
        """Create the bucket if it is missing (dev and tests; production provisions it)."""
        r = await self._call("PUT", None)
        if r.status_code not in (200, 409):
            raise S3Error(f"create bucket: {r.status_code} {r.text[:200]}")
