"""The data contract: canonical tables, their columns and types.

Every loader ends by producing one of these tables; everything downstream
(features, segmentation, churn, call-center exports) trusts them and never
re-checks raw input. Ids and phone numbers are strings so that ``007`` stays
``007``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Column kinds: how a raw value is parsed into the canonical type.
ID, TEXT, DATE, NUMBER, INTEGER, FLAG, PHONE = "id", "text", "date", "number", "integer", "flag", "phone"


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: required and optional columns with their kinds. ``whole``: why a row that would be
    a reject refuses the file instead (empty: rejects are rows set aside, as for members and transactions)."""

    name: str
    required: dict[str, str]
    optional: dict[str, str] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    whole: str = ""

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}

    def describe(self) -> str:
        req = ", ".join(self.required)
        opt = ", ".join(self.optional)
        return f"{self.name}: required {req}; optional {opt}"


TRANSACTIONS = TableSpec(
    name="transactions",
    required={"member_id": ID, "date": DATE, "amount": NUMBER},
    optional={
        "order_id": ID,
        "quantity": NUMBER,
        "product": TEXT,
        "channel": TEXT,
        "status": TEXT,
    },
)

MEMBERS = TableSpec(
    name="members",
    required={"member_id": ID},
    optional={
        "name": TEXT,
        "phone": PHONE,
        "join_date": DATE,
        "tier": TEXT,
        "household_size": INTEGER,
        "birthday": DATE,
        "advisor_id": ID,
        "do_not_call": FLAG,
        "wants_new_advisor": FLAG,
    },
    key=("member_id",),
)

ADVISORS = TableSpec(
    name="advisors",
    required={"advisor_id": ID, "level": INTEGER},
    optional={
        "name": TEXT,
        "team": TEXT,
        "capacity_min": INTEGER,
        "capacity_max": INTEGER,
        "daily_calls": INTEGER,
        "active": FLAG,
    },
    key=("advisor_id",),
    whole="an advisor left out would have their whole book handed over",
)

TABLES = {spec.name: spec for spec in (TRANSACTIONS, MEMBERS, ADVISORS)}


def spec_for(table: str | TableSpec) -> TableSpec:
    """Look a table spec up by name, with a clear error for unknown names."""
    if isinstance(table, TableSpec):
        return table
    try:
        return TABLES[table]
    except KeyError:
        raise ValueError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}") from None


class ContractError(ValueError):
    """Input that cannot be mapped onto the canonical table at all.

    Raised by the loaders (``load_table`` and ``load_transactions``, ``load_members``,
    ``load_advisors``) and by mapping configurations (``LoadConfig``) when no row could
    be trusted: a required column is missing, a header appears twice, two columns could
    each be one canonical column, a do-not-call column is not mapped, or a setting is
    wrong. The message names the file or setting and says what to fix. Rows that are
    merely bad are not errors: they go to the rejects with a reason. A ``ValueError``,
    so ``except ValueError`` catches it too.

    Examples
    --------
    >>> import pandas as pd
    >>> from segkit import ContractError, load_members
    >>> try:
    ...     load_members(pd.DataFrame({"member_id": ["007"], "DNC": ["yes"]}))
    ... except ContractError as error:
    ...     print(error)
    members: the column 'DNC' looks like do_not_call but is not mapped: ... map it (columns: {DNC: do_not_call}), ...
    """
