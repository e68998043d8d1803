"""Masking names and phone numbers wherever they are shown rather than dialled.

Names and phones appear in full only in the files meant for the call center
(``call_list.csv``/``.xlsx``); notebooks, HTML reports and logs show
``138****5678`` and ``张**``.
"""
from __future__ import annotations

import hashlib

import pandas as pd

PERSONAL_COLUMNS = ("name", "phone")


def mask_phone(phone) -> str:
    """``13812345678`` -> ``138****5678``: the first three and last four digits; short numbers keep only the last two."""
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


def mask_personal(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with its ``name`` and ``phone`` columns masked, for notebooks and reports."""
    masked = frame.copy()
    if "phone" in masked:
        masked["phone"] = masked["phone"].map(mask_phone)
    if "name" in masked:
        masked["name"] = masked["name"].map(mask_name)
    return masked


def phone_fingerprint(phone) -> str:
    """A short one-way hash of a phone number: lets the ledger notice a changed number without storing it."""
    if phone is None or pd.isna(phone) or str(phone) == "":
        return ""
    return hashlib.sha256(str(phone).encode()).hexdigest()[:16]
