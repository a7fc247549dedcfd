"""JUnit XML for CI systems that show test reports: one test suite per hop, one test case per finding.

Errors and warnings are failures, input that could not be checked is an error, suppressed
findings are skipped, and a hop without findings is one passing test case, so that a CI test
view shows every hop. The element names follow the JUnit XML format most CI systems read
(https://github.com/testmoapp/junitxml).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from kupgrade_lint.findings import Finding, Report, Severity


def _case(suite: ET.Element, f: Finding) -> None:
    case = ET.SubElement(suite, "testcase", classname=f"kupgrade-lint.{f.rule_id}.{f.rule_name}", name=f.location.describe())
    body = f"{f.message}\nfix: {f.remediation}" + ("".join(f"\n{r}" for r in f.references[:3]))
    if f.suppressed_by:
        ET.SubElement(case, "skipped", message=f"suppressed: {f.suppressed_by}")
    elif f.hop is None:
        ET.SubElement(case, "error", message=f.message, type="not-checked").text = body
    elif f.severity is Severity.INFO:
        ET.SubElement(case, "system-out").text = body
    else:
        ET.SubElement(case, "failure", message=f.message, type=f.severity.value).text = body


def _finish(suite: ET.Element, findings: list[Finding]) -> None:
    suite.set("tests", str(max(1, len(findings))))
    suite.set("failures", str(sum(1 for f in findings if f.hop and not f.suppressed_by and f.severity is not Severity.INFO)))
    suite.set("errors", str(sum(1 for f in findings if f.hop is None and not f.suppressed_by)))
    suite.set("skipped", str(sum(1 for f in findings if f.suppressed_by)))


def render(report: Report, stream: TextIO, color: bool = False) -> None:
    root = ET.Element("testsuites", name=f"kupgrade-lint {report.current_version} -> {report.target_version}")
    by_hop: dict[str | None, list[Finding]] = {}
    for f in report.findings:
        by_hop.setdefault(f.hop, []).append(f)
    groups = [(None, "not checked", by_hop.get(None, []))] if by_hop.get(None) else []
    groups += [(h.minor, f"hop to {h.minor} ({h.source} -> {h.dest})", by_hop.get(h.minor, [])) for h in report.hops]
    for _, name, findings in groups:
        suite = ET.SubElement(root, "testsuite", name=name)
        for f in findings:
            _case(suite, f)
        if not findings:
            ET.SubElement(suite, "testcase", classname="kupgrade-lint", name=f"{name}: nothing breaks")
        _finish(suite, findings)
    ET.indent(root)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(root, encoding="unicode"))
    stream.write("\n")
