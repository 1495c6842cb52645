"""Links other parts of the portal put on a framework's page (its audit report, from
compliance). Each provider takes (framework, user) and returns {"label", "url"} or None; higher
apps register theirs in their `AppConfig.ready()`, so the catalogue never names their pages."""

from controls.models import Framework
from kernel.permissions import AnyUser
from kernel.sections import Sections

framework_links: Sections[[Framework, AnyUser]] = Sections()
register_framework_link = framework_links.register
links_for = framework_links.collect
