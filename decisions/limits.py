"""The fixed numbers of decisions and activity review, named once."""

from datetime import timedelta

# The review page: flagged activity waiting (oldest first) and recently reviewed, shown.
REVIEW_PENDING_SHOWN = 200
REVIEW_DONE_SHOWN = 50
# The decision log page: decisions per page.
DECISION_LOG_PAGE_SIZE = 50
# The dashboard: decisions per day over this many days (today included), drift flags per
# week over this many weeks (this week included).
DECISION_CHART_DAYS = 30
DRIFT_CHART_WEEKS = 12
# A batch of decisions (POST /api/v1/decisions/batch/): at most this many questions.
BATCH_MAX = 1000
# An activity report (POST /api/v1/activity/): at most this many events per batch, and none
# more than this far ahead of the portal's clock (the agent's clock may run a little fast).
ACTIVITY_BATCH_MAX = 1000
ACTIVITY_FUTURE_TOLERANCE = timedelta(minutes=5)
