"""``openLineage.enabled: false``: switch lineage off explicitly in every component.

    env:  OPENLINEAGE_DISABLED="true"

Not offered by ``--method``: the values' ``enabled`` chooses it, whatever the method.
Render does not lint what it leaves switched off.
"""

from __future__ import annotations

from postrenderer.inject.contract import Injection, Method
from postrenderer.read.variables import CLIENT_DISABLED_VAR

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from postrenderer.read.discovery import Component


class DisabledMethod(Method):
    """``openLineage.enabled: false``: switch lineage off explicitly."""

    name = "disabled"
    selectable = False
    lints = False
    reload_reason = "lineage is switched off (openLineage.enabled: false): there is no key to reload"

    def injection(self, component: Component) -> Injection:
        """Only ``OPENLINEAGE_DISABLED``."""
        return Injection(env=[{"name": CLIENT_DISABLED_VAR, "value": "true"}])
