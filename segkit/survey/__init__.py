"""The premium-benefit survey: screening, the financial check, and ranking with Plackett-Luce and constant-sum."""

from .benefits import RANKING_COLUMNS, STATUSES, SURVEY_FILES, SurveyResult, SurveySettings, rank_benefits
from .inputs import PROBLEM_COLUMNS, SurveyData, read_survey

__all__ = [
    "PROBLEM_COLUMNS",
    "RANKING_COLUMNS",
    "STATUSES",
    "SURVEY_FILES",
    "SurveyData",
    "SurveyResult",
    "SurveySettings",
    "rank_benefits",
    "read_survey",
]
