"""Open a bucket to anonymous browser readers: public-read ACL and a CORS rule for Range reads.

Swift's S3 layer maps `PutBucketAcl public-read` to `X-Container-Read: .r:*,.rlistings` but answers
`PutBucketCors` with NotImplemented; there the same rule is set as container metadata through the
Swift API (`OS_STORAGE_URL` + `OS_AUTH_TOKEN`, the `swift` CLI's convention) when it is reachable.
"""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

ALLOWED_METHODS = ["GET", "HEAD"]
ALLOWED_HEADERS = ["Range"]
EXPOSED_HEADERS = ["Accept-Ranges", "Content-Length", "Content-Range"]

CORS_RULE = {
    "AllowedOrigins": ["*"],
    "AllowedMethods": ALLOWED_METHODS,
    "AllowedHeaders": ALLOWED_HEADERS,
    "ExposeHeaders": EXPOSED_HEADERS,
    "MaxAgeSeconds": 3600,
}

# The same rule as Swift container metadata (Swift's default exposed list lacks Content-Range).
SWIFT_CORS_HEADERS = {
    "X-Container-Meta-Access-Control-Allow-Origin": "*",
    "X-Container-Meta-Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
    "X-Container-Meta-Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
    "X-Container-Meta-Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS),
    "X-Container-Meta-Access-Control-Max-Age": "3600",
}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def open_to_readers(
    client: Any, bucket: str, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Make `bucket` world-readable with the CORS rule the web app needs; what was done."""
    env = os.environ if environ is None else environ
    done = []
    try:
        client.put_bucket_acl(Bucket=bucket, ACL="public-read")
        done.append("bucket ACL public-read")
    except ClientError as exc:
        log.warning(
            "s3: PutBucketAcl public-read on %s refused (%s): anonymous readers may be denied",
            bucket,
            _code(exc),
        )
    try:
        client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [CORS_RULE]})
        done.append("bucket CORS rule")
    except ClientError as exc:
        if _code(exc) != "NotImplemented":
            raise
        done.extend(_swift_cors(bucket, env))
    return done


def _swift_cors(container: str, env: Mapping[str, str]) -> list[str]:
    """Set the CORS container metadata with one POST to the Swift API, or warn how to."""
    storage_url, token = env.get("OS_STORAGE_URL"), env.get("OS_AUTH_TOKEN")
    wanted = "; ".join(f"{k}: {v}" for k, v in SWIFT_CORS_HEADERS.items())
    if not (storage_url and token):
        log.warning(
            "s3: the endpoint does not implement PutBucketCors (OpenStack Swift?) and "
            "OS_STORAGE_URL/OS_AUTH_TOKEN are not set: browsers cannot read %s until the "
            "container has these headers: %s",
            container,
            wanted,
        )
        return []
    url = f"{storage_url.rstrip('/')}/{urllib.parse.quote(container)}"
    request = urllib.request.Request(
        url, method="POST", headers={**SWIFT_CORS_HEADERS, "X-Auth-Token": token}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        # The token never appears: only the URL and the reason.
        reason = getattr(exc, "code", None) or getattr(exc, "reason", exc)
        log.warning(
            "s3: setting CORS through the Swift API at %s failed (%s); set these headers on "
            "the container: %s",
            url,
            reason,
            wanted,
        )
        return []
    return ["container CORS metadata (Swift API)"]
