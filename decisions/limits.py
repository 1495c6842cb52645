"""The fixed numbers of decisions and activity review, named once."""

# The review page: flagged activity waiting (oldest first) and recently reviewed, shown.
REVIEW_PENDING_SHOWN = 200
REVIEW_DONE_SHOWN = 50
# The dashboard counts decisions of the last this many hours.
DECISIONS_RECENT_HOURS = 24
