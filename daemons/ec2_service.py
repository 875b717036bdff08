"""One EC2 endpoint as the gridmanager uses it: boto3 with explicit credentials, a rate limit,
and condorsim's own retry policy.

* Credentials are read from the job's two files for every request (whitespace trimmed) and
  handed to the client explicitly; the process's environment and ~/.aws are never consulted
  (see ``isolate_from_ambient_credentials``). Neither value is ever logged or put in a message.
* botocore's automatic retries are off. Throttling (``RequestLimitExceeded``, a definite "not
  done" answer) is retried here with a doubling delay; a transport failure (no answer) is never
  retried blindly: the caller decides (a lost RunInstances reply is looked up by tag, since a
  re-sent request could launch a second instance on services that ignore ClientToken).
"""
from __future__ import annotations

import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

THROTTLE_CODES = {"RequestLimitExceeded", "Throttling", "ThrottlingException"}
AUTH_CODES = {"AuthFailure", "SignatureDoesNotMatch", "InvalidClientTokenId", "UnrecognizedClientException"}
_REGION_HOST = re.compile(r"^ec2\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class TransportError(Exception):
    """No answer from the service (refused, timed out, cut): the request may or may not have run."""


class CredentialsError(Exception):
    """A credentials file could not be read; the message names the file (never its content)."""


@dataclass
class ServiceError(Exception):
    """The service answered with an error."""
    code: str
    message: str
    http_status: int

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def is_auth(self) -> bool:
        return self.code in AUTH_CODES or self.http_status == 401


def isolate_from_ambient_credentials() -> None:
    """Make sure boto3 can find no credentials or settings but those we pass it."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                      AWS_EC2_METADATA_DISABLED="true")


def region_for(url: str, default: str) -> str:
    """The region of an AWS endpoint URL (ec2.REGION.amazonaws.com), else `default`."""
    host = urlsplit(url).hostname or ""
    match = _REGION_HOST.match(host)
    if match:
        return match.group(1)
    if host == "ec2.amazonaws.com":
        return "us-east-1"
    return default


def read_secret_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="strict") as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not text"
        raise CredentialsError(f"Failed to read credentials file {path} ({reason})") from None


class EC2Service:
    """Requests to one endpoint with one pair of credential files."""

    def __init__(self, url: str, key_id_file: str, secret_file: str, *, region: str,
                 rate_limit: float, timeout: float, max_backoff_doublings: int = 12,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url
        self.key_id_file = key_id_file
        self.secret_file = secret_file
        self.region = region
        self.rate_limit = rate_limit
        self.timeout = timeout
        self.max_doublings = max_backoff_doublings
        self.sleep = sleep
        self.next_request_at = 0.0
        self.requests: Counter[str] = Counter()  # per operation, attempts included
        self._client: Any = None
        self._client_key: tuple[str, int] | None = None

    def _client_for(self, key_id: str, secret: str) -> Any:
        # boto3 is imported here, in the gridmanager, not at module import: the schedd forks
        # gridmanagers from a process that imported this module and should not carry boto3.
        import boto3
        from botocore.config import Config
        # A new client only when the credentials change; the key is not kept beside it in clear.
        fingerprint = (key_id, hash(secret))
        if self._client is None or self._client_key != fingerprint:
            config = Config(retries={"total_max_attempts": 1}, connect_timeout=self.timeout,
                            read_timeout=self.timeout, user_agent_extra="condorsim-gridmanager")
            self._client = boto3.session.Session().client(
                "ec2", endpoint_url=self.url, region_name=self.region, aws_access_key_id=key_id,
                aws_secret_access_key=secret, config=config)
            self._client_key = fingerprint
        return self._client

    def call(self, operation: str, **params: Any) -> dict:
        """One request (throttling answers retried with backoff); raises TransportError,
        ServiceError or CredentialsError."""
        import botocore.exceptions
        client = self._client_for(read_secret_file(self.key_id_file), read_secret_file(self.secret_file))
        started = time.monotonic()
        delay = max(self.rate_limit, 0.1)
        for attempt in range(self.max_doublings + 1):
            self._wait_for_slot()
            self.requests[operation] += 1
            try:
                return getattr(client, operation)(**params)
            except botocore.exceptions.ClientError as exc:
                error = exc.response.get("Error", {})
                failure = ServiceError(str(error.get("Code", "Unknown")), str(error.get("Message", "")),
                                       int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)))
            except botocore.exceptions.ParamValidationError as exc:
                raise ServiceError("InvalidParameter", str(exc), 0) from None
            except (botocore.exceptions.BotoCoreError, OSError) as exc:
                raise TransportError(f"{type(exc).__name__}: {exc}") from None
            if failure.code not in THROTTLE_CODES or attempt == self.max_doublings \
                    or time.monotonic() - started + delay > 300:
                raise failure
            self.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _wait_for_slot(self) -> None:
        now = time.monotonic()
        if now < self.next_request_at:
            self.sleep(self.next_request_at - now)
        self.next_request_at = max(now, self.next_request_at) + self.rate_limit
