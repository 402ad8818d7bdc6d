"""One URL redactor for the pipeline and its harness: no password reaches a log, a result
file or a report, whether it sits in the userinfo (`user:pw@host`) or in the query string
(`?password=pw`, `?sslpassword=`, `&token=` ...). Both work on free text as on one URL, and
mask too much rather than too little: the password may hold any character but `@`, `/` and
a line break."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MASK = "***"
SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "key", "credential", "sig")
_USERINFO = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@/\n]+)(?P<tail>@)")
_QUERY_SECRET = re.compile(r"(?P<head>[?&][^=&#\s]*(?:" + "|".join(SECRET_WORDS) + r")[^=&#\s]*=)(?P<secret>[^&#\s]*)",
                           re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for a setting or query parameter whose value is a secret (password, token ...)."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def redact_text(text: str) -> str:
    """scheme://user:password@host/db?password=x -> scheme://user:***@host/db?password=***,
    for every URL inside `text`."""
    text = _USERINFO.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    return _QUERY_SECRET.sub(lambda m: f"{m['head']}{MASK}" if m["secret"] else m[0], text)


def mask_url(url: str) -> str:
    """One URL with its secrets masked (see `redact_text`)."""
    return redact_text(url)


def mask_webhook(url: str) -> str:
    """A webhook URL often carries its secret in the path: keep only scheme and host."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}/{MASK}" if parts.path.strip("/") or parts.query else f"{parts.scheme}://{host}"
