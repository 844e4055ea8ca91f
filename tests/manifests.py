"""Builders shared by tests: put a pod template where a workload kind keeps it."""

from __future__ import annotations

from typing import Any

from postrenderer.workloads import POD_TEMPLATE_PATHS


def with_template(doc: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """Place template in doc at its kind's pod-template path (a Pod takes its labels and spec)."""
    path = POD_TEMPLATE_PATHS[doc["kind"]]
    if not path:  # a Pod is its own template
        doc["metadata"].update(template["metadata"])
        doc["spec"] = template["spec"]
        return doc
    node = doc
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = template
    return doc
