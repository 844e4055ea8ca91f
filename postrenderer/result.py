"""What a run produced, which every view reads: the analysis, the plan (or the check), the lint, the view.

``program.program`` fills it; the writers (``write.report``, ``write.kustomize``)
and the CLI read it. A failure after planning is kept (``failure``) so that
``--explain`` can still be written before it is raised.
"""

from __future__ import annotations

from jsonpointer import JsonPointer

from postrenderer.inject.plan import Plan

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.errors import OlrenderError
    from postrenderer.inject.contract import Method
    from postrenderer.lint.verdict import CheckResult
    from postrenderer.read import stream
    from postrenderer.read.analysis import Analysis


class Result:
    """What a run produced: the analysis, the plan (or the check), the lint, the view, and a failure to raise."""

    __slots__ = ("analysis", "check", "failure", "findings", "method", "mode", "notice", "output", "parts",
                 "patched", "plan", "texts", "warnings")

    def __init__(self, analysis: Analysis, method: Method, mode: str = "render", plan: Plan | None = None):
        self.analysis, self.method, self.mode = analysis, method, mode
        self.plan = plan if plan is not None else Plan()
        self.patched = patch_documents(analysis.documents, self.plan.ops)  # changed documents, as data
        self.texts: dict[int, str] = {}  # changed documents' text (set by edit_documents)
        self.findings: dict[tuple[int, int], list[Any]] = {}  # lint findings by (document, workload position)
        self.warnings: list[str] = list(self.plan.warnings)
        self.check: CheckResult | None = None
        self.failure: OlrenderError | None = None  # raised by the caller once the views it wants are out
        self.notice = ""
        self.parts: list[bytes | memoryview] = []  # the mode's view, in parts (joined: what stdout gets)
        self.output = b""  # the joined stream (set by render)

    @property
    def format(self) -> str:
        """helm3, helm4 or plain."""
        return self.analysis.format

    @property
    def segments(self) -> dict[int, stream.Segment]:
        """The kept documents' segments, by index."""
        return self.analysis.segments

    @property
    def documents(self) -> dict[int, Any]:
        """The documents kept by the analysis, as read."""
        return self.analysis.documents

    @property
    def changed(self) -> bool:
        """Whether the run changes or adds a document."""
        return bool(self.plan.ops or self.plan.new_documents)


def patch_documents(documents: dict[int, Any], ops: dict[int, list[dict[str, Any]]]) -> dict[int, Any]:
    """Each changed document after its operations, as data (the documents themselves stay as read)."""
    if not ops:
        return {}
    import jsonpatch  # deferred: a run that changes nothing (a second run, --check) never loads it

    return {
        index: jsonpatch.apply_patch(_copied_along(documents[index], doc_ops), doc_ops, in_place=True)
        for index, doc_ops in ops.items()
    }


def _copied_along(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """A copy of doc in which every mapping and list the operations go through is new (the rest is shared)."""
    copied: dict[int, Any] = {}

    def fresh(node: Any) -> Any:
        known = copied.get(id(node))
        if known is None:
            known = copied[id(node)] = dict(node) if isinstance(node, dict) else list(node)
            copied[id(known)] = known
        return known

    root = fresh(doc)
    for op in ops:
        node = root
        for raw in JsonPointer(str(op["path"])).parts[:-1]:
            part: Any = raw
            if isinstance(node, list):
                part = int(part) if part.isdigit() and int(part) < len(node) else None
            elif not isinstance(node, dict) or part not in node:
                part = None
            child = None if part is None else node[part]
            if not isinstance(child, (dict, list)):
                break
            node[part] = node = fresh(child)
    return root


