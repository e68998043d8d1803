"""Masking names and phone numbers wherever they are shown rather than dialled.

Names and phones appear in full only in the files meant for the call center
(``call_list.csv``/``.xlsx``); notebooks, HTML reports and logs show
``138****5678`` and ``张**``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from pathlib import Path
from urllib.parse import unquote_plus

import pandas as pd

PERSONAL_COLUMNS = ("name", "phone")
PHONE_KEY_ENV = "SEGKIT_PHONE_KEY"
SECRET_QUERY_KEYS = re.compile(r"pass|pwd|secret|token|credential|api_?key", re.IGNORECASE)
# A scheme as SQLAlchemy takes it: a dialect and driver of letters, digits and "_" (oracle+cx_oracle)
# after any other text, Chinese too; "postgresql:/u:pw@db" too, as a URL given where a file was expected comes back
# from pathlib with one slash
_SCHEME = r"(?<![A-Za-z0-9_+.\-])[a-z][A-Za-z0-9_+.\-]*:/{1,2}"
# a URL runs to the next space or quote; punctuation that ends it (db?password=pw: error) is the sentence's
_URL = re.compile(_SCHEME + r"[^\s'\"<>]+?(?=[:;,.)]*(?:[\s'\"<>]|$))", re.IGNORECASE)
_SCHEME_AT = re.compile(_SCHEME, re.IGNORECASE)


def mask_phone(phone) -> str:
    """``13812345678`` -> ``138****5678``: the first three and last four digits; short numbers keep only the last
    two."""
    if phone is None or pd.isna(phone):
        return ""
    text = str(phone)
    if len(text) >= 8:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    return "*" * max(len(text) - 2, 0) + text[-2:]


def mask_name(name) -> str:
    """``张三丰`` -> ``张**``, ``Ann Lee`` -> ``A******``: the first character only."""
    if name is None or pd.isna(name) or str(name) == "":
        return ""
    text = str(name)
    return text[0] + "*" * (len(text) - 1)


_NUMBER_RUN = re.compile(r"\+?\d(?:[\d .()\-]*\d)?")
# A mainland mobile number standing on its own: not inside a longer run of letters and digits, such as the hex of
# a plotly figure's id (a5e13912345678f would otherwise read as a mobile number in about one report in two
# hundred). 138-1234-5678, 139.1234.5605, (139) 1234-5606, +86 (139) 1234 5613: the first group and the country
# code perhaps in brackets; the second separator is the first, or a space or dash (139.12345678 is a number in a
# chart, not a phone)
MOBILE = re.compile(
    r"(?<![0-9A-Za-z])(?:\+?\(?86\)?[ .-]?)?\(?1[3-9]\d\)?(?P<sep>[ .-]?)\d{4}(?:(?P=sep)|[ -])\d{4}(?![0-9A-Za-z])"
)


def mask_mobiles_in(text) -> str:
    """``text`` with every mobile number in it (``MOBILE``) masked (``mask_phone``): for labels that are someone's
    number (an advisor id, a segment name) in a report."""
    return MOBILE.sub(lambda match: mask_phone(re.sub(r"\D", "", match.group(0))[-11:]), str(text))


def mask_numbers_in(text) -> str:
    """``text`` with every run of 7 or more digits masked as a phone (``mask_phone``): for what an agent typed
    (a note, a cell) quoted in a message, which may hold a member's number."""

    def masked(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return mask_phone(digits) if len(digits) >= 7 else match.group(0)

    return _NUMBER_RUN.sub(masked, str(text))


def mask_personal(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with its ``name`` and ``phone`` columns masked, and any mobile number in its other text
    columns (an advisor id that is someone's number), for notebooks and reports."""
    masked = frame.copy()
    if "phone" in masked:
        masked["phone"] = masked["phone"].map(mask_phone)
    if "name" in masked:
        masked["name"] = masked["name"].map(mask_name)
    for column in masked.columns.drop(["phone", "name"], errors="ignore"):
        if masked[column].dtype == object:
            masked[column] = masked[column].map(
                lambda value: mask_mobiles_in(value) if isinstance(value, str) else value
            )
    return masked


# scheme://user:password@... read as SQLAlchemy reads it, the user name up to the first ":" (it may hold "@", as
# Azure's user@server does), and the password, to be safe, up to the last "@": an unencoded "/", "#", "?" or "@"
# in it stays in it (urllib, or a pattern that stops at the first "@", would cut it short and show the rest).
# The URL may stand anywhere in the text (a parameter may quote it, or start with a space or a line end).
# A password does not run into Chinese text or punctuation (报表见http://intranet:8080/r，问题找ops@example.com is a
# port and an e-mail address, not user:password@).
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_USERINFO = re.compile(
    _SCHEME + rf"(?:[^:/]*:(?P<password>[^{_CJK}]*)@(?=[^@{_CJK}]*(?:[{_CJK}]|$))|[^:/]*@)?", re.IGNORECASE | re.DOTALL
)
# libpq's key=value connection string (host=h user=u password=secret dbname=d), and ODBC's (UID=u;PWD=secret)
_DSN_SECRET = re.compile(r"(?:^|[\s;])(?P<key>\w+)\s*=\s*(?P<value>'(?:[^'\\]|\\.)*'|[^\s;]+)")


def _secret_spans(url: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The credentials in ``url`` (described) and where their values stand in the text: every URL's (a text may
    hold several, each read up to the next), or a libpq connection string's (``password=...``)."""
    text = str(url)
    urls = urls_in(text)
    if not urls:
        pairs = [pair for pair in _DSN_SECRET.finditer(text) if SECRET_QUERY_KEYS.search(pair.group("key"))]
        return [f"{pair.group('key')}= in a connection string" for pair in pairs], [
            pair.span("value") for pair in pairs
        ]
    found, spans = [], []
    for start, part in urls:
        described, where = _url_secret_spans(part)
        found += described
        spans += [(first + start, last + start) for first, last in where]
    return found, spans


def urls_in(text: str) -> list[tuple[int, str]]:
    """Where each URL of ``text`` starts, and the text from there to the next URL (or the end)."""
    starts = [match.start() for match in _SCHEME_AT.finditer(text)]
    return [(start, text[start:end]) for start, end in zip(starts, [*starts[1:], len(text)])]


def _url_secret_spans(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """``_secret_spans`` of one URL, ``text`` starting with its scheme."""
    match = _USERINFO.match(text)
    found, spans = [], []
    if match.group("password") is not None:
        found.append("a password in user:password@")
        spans.append(match.span("password"))
    rest = match.end()
    query_at = text.find("?", rest)
    if query_at >= 0:
        position = query_at + 1
        for pair in text[query_at + 1 :].split("&"):
            key, _, value = pair.partition("=")
            if SECRET_QUERY_KEYS.search(unquote_plus(key)) or _holds_secret(unquote_plus(value)):
                found.append(f"query parameter {unquote_plus(key)!r}")
                spans.append((position + len(key) + 1, position + len(pair)))
            position += len(pair) + 1
    return found, spans


def _holds_secret(value: str) -> bool:
    """Whether a query parameter's value is an ODBC connection string with a credential in it
    (``odbc_connect=DRIVER=...;UID=u;PWD=secret``, SQLAlchemy's way to pass one to pyodbc)."""
    return any(SECRET_QUERY_KEYS.search(pair.group("key")) for pair in _DSN_SECRET.finditer(value))


def ambiguous_password(url: str) -> bool:
    """Whether ``url``'s password holds an unencoded ``@``: a driver then takes what follows it as the host, and
    prints it in its error (``failed to resolve host 'Pw1234@db'``), where no mask can find it."""
    matches = (_USERINFO.match(part) for _, part in urls_in(str(url)))
    return any(match and match.group("password") and "@" in match.group("password") for match in matches)


def url_secrets(url: str) -> list[str]:
    """What in ``url`` is a credential: a password in ``user:password@``, or a query parameter such as
    ``?password=`` or ``?sslpassword=``. Empty for a URL that is safe to print and to pass as a parameter."""
    return _secret_spans(url)[0]


def mask_url(url: str) -> str:
    """``url`` with any password and secret query values replaced by ``***``, for printing."""
    text = str(url)
    for start, end in reversed(_secret_spans(text)[1]):
        text = text[:start] + "***" + text[end:]
    return text


def mask_urls_in(text: str) -> str:
    """Every URL inside ``text`` masked (``mask_url``), and every ``password=...`` of a connection string: for
    error messages that quote a driver."""
    text = _URL.sub(lambda match: mask_url(match.group(0)), str(text))
    return _DSN_SECRET.sub(
        lambda pair: (
            pair.group(0).replace(pair.group("value"), "***")
            if SECRET_QUERY_KEYS.search(pair.group("key"))
            else pair.group(0)
        ),
        text,
    )


def phone_key() -> bytes:
    """The secret behind phone fingerprints: ``$SEGKIT_PHONE_KEY``, else a random key kept (mode 0600) in
    ``$XDG_CONFIG_HOME/segkit/phone_key`` (``~/.config``), created on first use."""
    return _phone_key(os.environ.get(PHONE_KEY_ENV, ""), os.environ.get("XDG_CONFIG_HOME") or "")


@functools.lru_cache(maxsize=4)
def _phone_key(from_environment: str, config_home: str) -> bytes:
    if from_environment:
        return from_environment.encode()
    path = Path(config_home or Path.home() / ".config") / "segkit" / "phone_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def phone_line(phone) -> str:
    """The line a phone number rings, as digits: ``+86 138-0013-8000``, ``008613800138000`` and ``13800138000``
    are one line (mainland China's country code dropped), so two member records with one phone are one line."""
    if phone is None or pd.isna(phone):
        return ""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", str(phone)))
    for country in ("0086", "86"):
        if digits.startswith(country) and len(digits) - len(country) == 11:
            return digits[len(country) :]
    return digits


def phone_fingerprint(phone, key: bytes | None = None) -> str:
    """A keyed one-way hash (HMAC-SHA256, 64 bits) of the line a phone number rings (``phone_line``): lets the
    ledger notice a changed number, and a number shared by two members, without storing it. Without the key,
    the ~10^10 possible numbers cannot be tried one by one."""
    line = phone_line(phone)
    if line == "":
        return ""
    return hmac.new(key or phone_key(), line.encode(), hashlib.sha256).hexdigest()[:16]
