#!/usr/bin/env python3
"""Checks driftwall's reports with independent, standard tools.

    validate.py schema SCHEMA.json REPORT.json   validate against a JSON Schema
                                                 (the draft the schema names)
    validate.py junit REPORT.xml                 parse JUnit XML; print its test
                                                 cases as JSON for the test to check

Exit 0 and "ok" when valid; 1 with the reasons when not; 3 when a module is
missing (the Rust test then skips, or fails under DRIFTWALL_REQUIRE_ALL).
"""
import json
import sys


def schema(schema_path, report_path):
    try:
        import jsonschema
    except ImportError as e:
        print(f"missing module: {e}", file=sys.stderr)
        return 3
    with open(schema_path) as f:
        sch = json.load(f)
    with open(report_path) as f:
        doc = json.load(f)
    cls = jsonschema.validators.validator_for(sch)
    cls.check_schema(sch)
    errors = sorted(cls(sch, format_checker=cls.FORMAT_CHECKER).iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors[:20]:
        print(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}", file=sys.stderr)
    if errors:
        print(f"{len(errors)} error(s) against {schema_path}", file=sys.stderr)
        return 1
    print("ok")
    return 0


def junit(report_path):
    import xml.etree.ElementTree as ET

    root = ET.parse(report_path).getroot()
    if root.tag != "testsuites":
        print(f"root element is <{root.tag}>, expected <testsuites>", file=sys.stderr)
        return 1
    out = {"attrib": dict(root.attrib), "suites": []}
    for suite in root.findall("testsuite"):
        cases = []
        for case in suite.findall("testcase"):
            c = dict(case.attrib)
            for kind in ("failure", "error", "skipped"):
                el = case.find(kind)
                if el is not None:
                    c[kind] = {"message": el.get("message", ""), "type": el.get("type", ""), "text": el.text or ""}
            cases.append(c)
        out["suites"].append({"attrib": dict(suite.attrib), "cases": cases})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "schema" and len(sys.argv) == 4:
        sys.exit(schema(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 3 and sys.argv[1] == "junit":
        sys.exit(junit(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
