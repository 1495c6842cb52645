"""What the registry tells other apps about agents, without importing them.

`tier_changed` is sent once an agent's new tier is saved (inside the transaction that saved
it): `agent` (saved), `previous` (the tier it had) and `actor`. Apps that hold something whose
rules depend on the tier connect a receiver in their AppConfig.ready() (credentials puts
bindings that lack the approvals of the new tier back to pending), as kernel.accounts'
`person_left` is connected.
"""

from django.dispatch import Signal

tier_changed = Signal()
