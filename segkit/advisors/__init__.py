"""Advisors and their books: member grades and teams, the min-cost-flow assignment, hand-over lists."""

from .assignment import ASSIGNMENT_COLUMNS, Assignment, AssignmentError, advisor_summary, advisor_table, assign_advisors
from .books import BOOK_FILES, BookPlan, plan_books
from .grading import STAGE_TEAMS, AssignmentSettings, member_grades
from .handover import HANDOVER_COLUMNS, handover_list

__all__ = [
    "BOOK_FILES",
    "BookPlan",
    "plan_books",
    "ASSIGNMENT_COLUMNS",
    "HANDOVER_COLUMNS",
    "STAGE_TEAMS",
    "Assignment",
    "AssignmentError",
    "AssignmentSettings",
    "advisor_summary",
    "advisor_table",
    "assign_advisors",
    "handover_list",
    "member_grades",
]
