"""The fixed numbers of just-in-time access, named once.

Numbers a deployment tunes are settings instead: BREAK_GLASS_MAX_HOURS,
POLICY_MAX_DURATION_HOURS, ACCESS_REQUEST_STALE_DAYS.
"""

from datetime import timedelta

# Inputs: the longest text accepted, and a sanity bound on the hours asked for (the policy's
# own maximum, checked by the service, is far lower).
SCOPE_MAX_LENGTH = 500
TICKET_MAX_LENGTH = 100
# The workload identity that filed a request over MCP ("trust provider: subject").
WORKLOAD_MAX_LENGTH = 600
DURATION_HOURS_INPUT_MAX = 100_000
# What a missing (or invisible) justification or incident is told, in forms, API and services.
WHY_NEEDED = "Say why the agent needs this access (justification)."
# How a refusal for a capability the policy denies ends (the request form links its last words).
DEVIATION_HINT = "To ask for a deviation, request a policy exception."
INCIDENT_NEEDED = "Break-glass needs an incident reference."
# An agent filing for itself (over MCP) waits for its owner: at most this many of its requests
# await confirmation at once, so a looping agent cannot flood its owner and team with notices.
AGENT_FILED_AWAITING_MAX = 5

# Lists: requests per page, and the latest requests shown on an agent's page.
PAGE_SIZE = 25
AGENT_PAGE_REQUESTS = 10

# The dashboard: grants ending within this many hours.
GRANTS_EXPIRING_HOURS = 24

# Owners are told this long before a grant expires (once per grant).
GRANT_REMINDER_BEFORE = timedelta(hours=1)
# The grants list's "ending within N hours" filter: at most a week.
GRANT_EXPIRING_FILTER_MAX_HOURS = 168
