"""The call center's side: call lists, contact pacing, the contact ledger, outcomes and care lists."""

from .effect import CampaignEffect, campaign_effect
from .export import CALL_LIST_FILES, CallExport, NoPhonesError, care_calls, export_calls, export_list
from .ledger import LEDGER_ENV, Ledger, LedgerError, LedgerSession, ledger_url
from .lists import (
    CALL_LIST_COLUMNS,
    alert_candidates,
    alert_id,
    birthday_greetings,
    call_list_table,
    care_candidates,
    next_birthday,
    vip_flags,
)
from .outcomes import OUTCOMES, OutcomesImport, import_outcomes, read_outcomes, retention_summary
from .pacing import (
    ALSO_COLUMNS,
    CANDIDATE_COLUMNS,
    HELD_BACK_COLUMNS,
    HOLD_RULES,
    ContactSettings,
    PacedList,
    daily_capacity,
    pace,
)

__all__ = [
    "ALSO_COLUMNS",
    "CALL_LIST_COLUMNS",
    "CALL_LIST_FILES",
    "CANDIDATE_COLUMNS",
    "HELD_BACK_COLUMNS",
    "HOLD_RULES",
    "LEDGER_ENV",
    "OUTCOMES",
    "CallExport",
    "CampaignEffect",
    "ContactSettings",
    "Ledger",
    "LedgerError",
    "LedgerSession",
    "NoPhonesError",
    "OutcomesImport",
    "PacedList",
    "alert_candidates",
    "alert_id",
    "birthday_greetings",
    "call_list_table",
    "campaign_effect",
    "care_calls",
    "care_candidates",
    "daily_capacity",
    "export_calls",
    "export_list",
    "import_outcomes",
    "ledger_url",
    "next_birthday",
    "pace",
    "read_outcomes",
    "retention_summary",
    "vip_flags",
]
