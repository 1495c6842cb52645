"""The fixed numbers of policy exceptions, named once.

Risks are named by their values ("low" ... "critical", `models.Risk`), so this module needs
nothing from the models and the models can read it.
"""

from datetime import timedelta

from kernel.validation import TEXT_MAX_LENGTH as KERNEL_TEXT_MAX_LENGTH

# The longest an exception may last, by risk: riskier deviations are shorter.
MAX_DAYS: dict[str, int] = {"low": 180, "medium": 90, "high": 30, "critical": 14}
# Risks that need compensating controls and two distinct security approvers.
ELEVATED_RISKS: tuple[str, ...] = ("high", "critical")

# How far in the past `starts_at` may be (clock skew, a form left open): not a backdating tool.
START_TOLERANCE = timedelta(minutes=5)
# How far ahead `starts_at` may be: an exception is filed for a need in sight, and a pending one
# far ahead would block every other for its capability as a duplicate meanwhile. (A renewal
# starts when the exception it continues ends: at most its risk's MAX_DAYS from now.)
START_AHEAD_MAX_DAYS = 90
# An exception expiring within this many days is "expiring soon" (list, dashboard).
EXPIRING_SOON_DAYS = 7
# The widest "expiring within N days" filter accepted.
EXPIRING_FILTER_MAX_DAYS = 366

# Inputs: the longest title and free text accepted.
TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = KERNEL_TEXT_MAX_LENGTH  # the portal's one limit on typed text
# What a missing (or invisible) title or justification is told, in forms, API and services.
TITLE_NEEDED = "Give the exception a title."
WHY_NEEDED = "Say why the deviation is needed."
STILL_NEEDED = "Say why the deviation is still needed."

# Lists: exceptions per page; renewal links followed back at most.
PAGE_SIZE = 25
RENEWAL_CHAIN_MAX = 50
