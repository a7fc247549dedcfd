"""URLs lose their userinfo (``http://user:password@host`` → ``http://host``) wherever text leaves us.

A password in a URL is still a password: kubeconfig ``server:`` fields, ``--master=`` flags and
env values can carry one (RFC 3986 section 3.2.1 deprecates the ``user:password`` form for this
reason). The collectors strip it before anything is written, and every finding strips it again
before it is reported, so no check can echo one by accident.
"""

from __future__ import annotations

import re

# scheme "://" userinfo "@": userinfo is everything up to the last "@" before the host part
# ends (a "/", "?", "#", whitespace or a quote). Unreserved, percent-encoded and sub-delims
# characters plus ":" (RFC 3986 section 3.2.1), and "@" itself, which unencoded passwords have.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s/?#\"'<>`\\]*@)")


def strip_userinfo(text: str) -> str:
    """``text`` with the userinfo of every URL in it removed."""
    if "@" not in text or "://" not in text:
        return text
    return _USERINFO.sub(lambda m: m.group("scheme"), text)


def has_userinfo(text: str) -> bool:
    """True when some URL in ``text`` carries a user name or password."""
    return strip_userinfo(text) != text
