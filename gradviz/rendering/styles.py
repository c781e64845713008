"""The look of every drawing: fills by node role and by check status, fonts and sizes.

Kept in one place so that the nodes, the legend and the step-through page agree.
"""

from __future__ import annotations

from ..checking.status import ERROR, FAIL, NONDIFF, PASS, SKIPPED, STATUSES

ROLE_COLORS = {
    "input": "#dae8fc",
    "parameter": "#fff2cc",
    "constant": "#eeeeee",
    "intermediate": "#ffffff",
    "output": "#d5e8d4",
}
# A fill for every status a check gives (ERROR: the user's backward raised; purple, as on the report's badge).
STATUS_COLORS = {PASS: "#b7e1a1", FAIL: "#f4a6a6", NONDIFF: "#ffd591", SKIPPED: "#d9d9d9", ERROR: "#e6b3e6"}
assert set(STATUS_COLORS) == set(STATUSES), "every status needs a colour"
LEGEND_STATUSES = (PASS, FAIL, NONDIFF, SKIPPED)  # ERROR joins the legend only on a drawing that shows it
FONT = "Helvetica"
FONT_SIZE = 11
SMALL_FONT_SIZE = 10  # the smallest text in any drawing: still >= 10 CSS px when shrunk to 75 %
CHANGED_COLOR = "#e07b00"  # the gradients the current backward step just changed
COLUMN_PT = 600  # about a docs column or a notebook cell: wider left-to-right layouts turn top-to-bottom
