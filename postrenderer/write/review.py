"""Review-ready views of the ``--explain`` report: a Markdown summary and GitHub workflow annotations.

Both read the same data as ``--report-format json`` (``report.explain_render`` /
``explain_check``, whose workloads are ``report.workload_data``), so they cannot
disagree with it. ``--report-format markdown`` gives a table per agent component:

    | component | container | method | actions | findings |
    |---|---|---|---|---|
    | worker | agent | vault | add env OPENLINEAGE_API_KEY ... | none |

``--report-format github`` gives one workflow command per finding, an error under
``--check`` (which fails on it) and a warning otherwise, placed on the template
Helm names in its ``# Source:`` line when the stream has one:

    ::error file=astro-agent/templates/worker.yaml,title=olrender key-missing (document 3, Deployment/x)::container ...

Values are escaped as GitHub's runner reads them (``%``, CR and LF; in properties
also ``:`` and ``,``). The caller scrubs the text like every other channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _cell(text: object) -> str:
    """A Markdown table cell: pipes escaped, lines joined."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def _place(entry: Mapping[str, Any]) -> str:
    """``document 12, Deployment/x`` for a workload entry."""
    return f"document {entry['index']}, {entry['kind']}/{entry['name'] or '?'}"


def markdown(report: Mapping[str, Any]) -> str:
    """The report as Markdown: a heading, then a table per agent component."""
    check = report["mode"] == "check"
    method = "check" if check else str(report.get("method"))
    components = [e for e in report["workloads"] if e["component"]]
    failing = [e for e in components if e["findings"]]
    lines = [f"## olrender {'--check' if check else 'render'} ({report['format']} stream)", "",
             f"{len(components)} agent component(s), {len(failing)} with findings.", ""]
    for entry in components:
        source = f" from `{_cell(entry['source'])}`" if entry.get("source") else ""
        lines += [f"### {_cell(_place(entry))}{source}", "",
                  "| component | container | method | actions | findings |", "|---|---|---|---|---|"]
        actions = "<br>".join(_cell(a["message"]) for a in entry.get("actions", [])) or "none"
        findings = "<br>".join(f"**{_cell(f['code'])}**: {_cell(f['message'])}" for f in entry["findings"]) or "none"
        lines += [f"| {_cell(entry['role'])} | {_cell(entry['container'])} | {_cell(method)} | {actions} | "
                  f"{findings} |", ""]
    lines.extend(f"- policy: {_cell(item['message'])}" for item in report.get("policy", []))
    return "\n".join(lines).rstrip("\n") + "\n"


def escape_data(text: str) -> str:
    """A workflow command's message, as the runner reads it back."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file, title), as the runner reads it back."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(report: Mapping[str, Any]) -> str:
    """One ``::error`` (``--check``) or ``::warning`` (render) workflow command per finding."""
    level = "error" if report["mode"] == "check" else "warning"
    lines = []
    for entry in report["workloads"]:
        for finding in entry["findings"]:
            title = f"olrender {finding['code']} ({_place(entry)})"
            file = f"file={escape_property(entry['source'])}," if entry.get("source") else ""
            lines.append(f"::{level} {file}title={escape_property(title)}::{escape_data(finding['message'])}")
    policy = report.get("policy", [])
    lines.extend(f"::{level} title=olrender policy::{escape_data(item['message'])}" for item in policy)
    return "".join(line + "\n" for line in lines)
