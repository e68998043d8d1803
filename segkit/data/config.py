"""Mapping configuration: how one CRM export maps onto a canonical table.

A YAML file such as::

    table: transactions
    source:
      encoding: auto          # auto | utf-8 | utf-8-sig | gbk | gb18030 ...
      sep: auto               # auto | "," | "\\t" | ";" | "|" | whitespace
    columns:                  # source column -> canonical column
      会员编号: member_id
      充装日期: date
      金额: amount
    date_format: null         # strftime form for day-first dates like 01/03/2026
    decimal: "."              # "," where amounts are written 115,00 (then . or a space groups thousands)
    amount:
      multiply: [Quantity, Price]   # amount computed as the product of source columns
    combine_order_lines: false      # sum the lines of one order_id into one transaction
    return_order_prefix: null       # order ids with this prefix (e.g. "C") are returns
    exclude_statuses: []            # statuses whose rows go to rejects (e.g. cancelled)
    drop_duplicates: true           # rows identical in every column are export duplicates;
                                    # false where identical rows are real (no order id, as in CDNOW)
    not_do_not_call: []             # members' columns named like a do-not-call flag that are none
                                    # (免打扰时段: the hours not to call); any other such column is refused

Credentials never live here: a database source names an environment variable
(``url_env``) that holds the SQLAlchemy URL.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ..privacy import url_secrets
from ..settings import load_yaml
from .contract import ContractError, spec_for

_SOURCE_KEYS = {"path", "encoding", "sep", "header", "names", "duckdb", "table", "url", "url_env", "query"}


@dataclass
class LoadConfig:
    """Parsed mapping configuration; every field has a safe default.

    Made by ``from_dict`` or ``from_yaml`` (which check every setting and raise
    ``ContractError`` naming the bad one); the loaders accept a ``LoadConfig``, a mapping
    or a YAML path (``as_config``). The module docstring shows the YAML form.

    Attributes
    ----------
    table : str or None
        The canonical table the mapping is for (``transactions``, ``members`` or
        ``advisors``); None: the loader's.
    source : dict
        Where and how to read: ``path``, ``encoding`` (``auto``), ``sep`` (``auto``),
        ``header``, ``names``; or ``duckdb`` + ``table``; or ``url_env`` + ``query``.
    columns : dict of str to str
        Source column name to canonical column name.
    date_format : str or None
        A strftime form for day-first dates such as ``%d/%m/%Y``; None: ISO dates.
    decimal : str
        ``"."`` or ``","`` (amounts written ``115,00``).
    amount : dict
        ``{"multiply": [column, column, ...]}``: the amount as the product of source
        columns (quantity times price); empty: the mapped ``amount`` column.
    combine_order_lines : bool
        Sum the lines of one ``order_id`` into one transaction.
    return_order_prefix : str or None
        Order ids with this prefix are returns (status ``return``).
    exclude_statuses : list of str
        Statuses whose rows go to the rejects (cancelled orders, say).
    drop_duplicates : bool
        Rows identical in every column are export duplicates; False where identical
        rows are real purchases (no order id, as in CDNOW).
    not_do_not_call : list of str
        Members' columns named like a do-not-call flag that are none (``免打扰时段``, the
        hours not to call); any other such column that is not mapped is refused.
    origin : str
        Where the settings came from, for error messages.

    Examples
    --------
    >>> from segkit import LoadConfig
    >>> config = LoadConfig.from_dict({"columns": {"会员编号": "member_id"}, "decimal": ","})
    >>> config.columns, config.decimal
    ({'会员编号': 'member_id'}, ',')
    >>> LoadConfig.from_dict({"decimals": ","})
    Traceback (most recent call last):
    ...
    segkit.data.contract.ContractError: <dict>: unknown setting(s) decimals; known settings: amount, ...
    """

    table: str | None = None
    source: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    decimal: str = "."
    amount: dict[str, Any] = field(default_factory=dict)
    combine_order_lines: bool = False
    return_order_prefix: str | None = None
    exclude_statuses: list[str] = field(default_factory=list)
    drop_duplicates: bool = True
    not_do_not_call: list[str] = field(default_factory=list)
    origin: str = "<defaults>"

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, origin: str = "<dict>") -> "LoadConfig":
        data = dict(data or {})
        known = {f.name for f in fields(cls)} - {"origin"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ContractError(
                f"{origin}: unknown setting(s) {', '.join(unknown)}; known settings: {', '.join(sorted(known))}"
            )
        config = cls(**data, origin=origin)
        config._validate()
        return config

    @classmethod
    def from_yaml(cls, path: str | Path) -> "LoadConfig":
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"mapping config not found: {path}")
        if not path.is_file():
            raise ContractError(f"mapping config {path} is not a file")
        with open(path, encoding="utf-8-sig") as handle:
            try:
                data = load_yaml(handle) or {}
            except yaml.YAMLError as error:
                raise ContractError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
        if not isinstance(data, dict):
            raise ContractError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
        config = cls.from_dict(data, origin=str(path))
        for key in ("path", "duckdb"):  # a file the mapping names is found beside the mapping
            if key in config.source:
                source_path = Path(config.source[key])
                if not source_path.is_absolute():
                    config.source[key] = str(path.parent / source_path)
        return config

    def _validate_source(self) -> None:
        where, source = self.origin, self.source
        encoding = source.get("encoding", "auto")
        if encoding != "auto":
            try:
                codecs.lookup(str(encoding))
            except LookupError:
                raise ContractError(
                    f"{where}: unknown encoding {encoding!r} (source.encoding); "
                    "use auto, utf-8, gbk, gb18030, utf-16, ..."
                ) from None
        sep = source.get("sep", "auto")
        if sep not in ("auto", "whitespace") and not (isinstance(sep, str) and len(sep) == 1 and sep not in '"\n'):
            raise ContractError(f"{where}: source.sep must be one character, auto or whitespace, got {sep!r}")
        if not isinstance(source.get("header", True), bool):
            raise ContractError(f"{where}: source.header must be true or false")
        names = source.get("names")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise ContractError(f"{where}: source.names must be a list of column names")
        url = source.get("url")
        if url is not None and url_secrets(str(url)):
            raise ContractError(
                f"{where}: source.url carries a credential ({', '.join(url_secrets(str(url)))}); "
                "put the URL in an environment variable and name it in source.url_env"
            )

    def _validate(self) -> None:
        where = self.origin
        if self.table is not None:
            spec_for(self.table)
        if not isinstance(self.columns, dict):
            raise ContractError(f"{where}: 'columns' must map source names to canonical names")
        if not isinstance(self.not_do_not_call, list) or not all(isinstance(c, str) for c in self.not_do_not_call):
            raise ContractError(f"{where}: 'not_do_not_call' must be a list of column names")
        if not isinstance(self.source, dict):
            raise ContractError(
                f"{where}: 'source' must be a mapping of settings (path, encoding, sep, ...), got {self.source!r}"
            )
        self._validate_source()
        if self.decimal not in (".", ","):
            raise ContractError(f'{where}: \'decimal\' must be "." or ",", got {self.decimal!r}')
        if self.date_format is not None and not isinstance(self.date_format, str):
            raise ContractError(f"{where}: 'date_format' must be a strftime text such as '%d/%m/%Y'")
        if self.table is not None:
            canonical = spec_for(self.table).columns
            wrong = sorted({v for v in self.columns.values() if v not in canonical})
            if wrong:
                raise ContractError(
                    f"{where}: {', '.join(wrong)} is not a column of {self.table}; "
                    f"canonical columns: {', '.join(canonical)}"
                )
        targets = list(self.columns.values())
        doubled = sorted({t for t in targets if targets.count(t) > 1})
        if doubled:
            raise ContractError(f"{where}: several source columns map to {', '.join(doubled)}")
        unknown = sorted(set(self.source) - _SOURCE_KEYS)
        if unknown:
            raise ContractError(
                f"{where}: unknown source setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_SOURCE_KEYS))}"
            )
        if self.amount and set(self.amount) != {"multiply"}:
            raise ContractError(f"{where}: 'amount' supports only 'multiply: [column, column]'")
        if self.amount and (not isinstance(self.amount["multiply"], list) or len(self.amount["multiply"]) < 2):
            raise ContractError(f"{where}: 'amount.multiply' needs a list of at least two source columns")
        if not isinstance(self.drop_duplicates, bool):
            raise ContractError(f"{where}: 'drop_duplicates' must be true or false")
        if not isinstance(self.exclude_statuses, list):
            raise ContractError(f"{where}: 'exclude_statuses' must be a list")


def as_config(config: "LoadConfig | dict | str | Path | None") -> LoadConfig:
    """Accept a LoadConfig, a dict, a YAML path, or None (defaults)."""
    if config is None:
        return LoadConfig()
    if isinstance(config, LoadConfig):
        return config
    if isinstance(config, dict):
        return LoadConfig.from_dict(config)
    return LoadConfig.from_yaml(config)
