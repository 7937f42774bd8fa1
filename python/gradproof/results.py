"""gradproof's results JSON (format 2, written by `--json FILE`; schema in src/report/json.cpp)
as plain dataclasses, and the text an AssertionError shows a pytest user.

Only what a test failure needs is lifted out (top lines, findings with their class, summary,
counterexample and reproduce command); the whole parsed document stays available as `raw`.
"""
from dataclasses import dataclass, field


@dataclass
class Finding:
    """One cause of failures: `cls` is wrong, extreme_inputs, accuracy, contract or crash."""

    id: int
    implementation: str
    precision: str
    cls: str
    summary: str
    properties: list
    message: str
    counterexample: str
    hazard: str
    threshold: str
    reproduce: str
    fails_run: bool  # its class is one of the run's --fail-on classes

    @classmethod
    def from_json(cls, j, fail_on):
        return cls(id=j["id"], implementation=j["implementation"], precision=j["precision"], cls=j["class"],
                   summary=j["summary"], properties=list(j["properties"]), message=j["message"],
                   counterexample=j["counterexample"], hazard=j["hazard"], threshold=j["threshold"],
                   reproduce=j["reproduce"], fails_run=j["class"] in fail_on)


@dataclass
class CheckResult:
    """A finished `gradproof check`. `passed` is the exit code's verdict: no finding of a failing
    class (findings of other classes may still be listed)."""

    passed: bool
    returncode: int
    headlines: dict  # implementation -> its top line
    findings: list
    domain: str
    fail_on: list
    command: list  # the gradproof command line that ran
    output: str = field(repr=False)  # gradproof's terminal report
    raw: dict = field(repr=False)

    @property
    def failing(self):
        return [f for f in self.findings if f.fails_run]


def parse(doc, returncode, command, output):
    """CheckResult from the parsed results JSON."""
    if doc.get("format") != "gradproof-results":
        raise ValueError("not a gradproof results file")
    meta = doc["meta"]
    fail_on = list(meta.get("fail_on", ["wrong", "extreme_inputs", "accuracy", "contract", "crash"]))
    impls = doc.get("summary", {}).get("implementations", [])
    return CheckResult(
        passed=returncode == 0,
        returncode=returncode,
        headlines={i["implementation"]: i["headline"] for i in impls},
        findings=[Finding.from_json(f, fail_on) for f in doc.get("findings", [])],
        domain=meta.get("domain", "full"),
        fail_on=fail_on,
        command=list(command),
        output=output,
        raw=doc,
    )


def _indent(text, prefix="    "):
    return "\n".join(prefix + line if line else line for line in text.rstrip("\n").split("\n"))


def failure_message(result, title, reproduce_env=""):
    """What pytest shows: top lines, then every finding that fails the run (class, properties,
    summary, message, minimal counterexample, reproduce command), then the others in one line each.
    reproduce_env (e.g. "PYTHONPATH=... ") prefixes reproduce commands that need it."""
    lines = [title]
    for impl, headline in result.headlines.items():
        lines.append(f"  {impl}: {headline}")
    if result.raw.get("incomplete"):
        lines.append(f"  run incomplete: {result.raw.get('incomplete_reason', '')}")
    lines.append(f"  domain: {result.domain}; failing classes: {', '.join(result.fail_on)}")
    for f in result.failing:
        lines.append("")
        lines.append(f"finding #{f.id + 1}: {f.cls} — {f.implementation} {f.precision}")
        lines.append(_indent(f.summary, "  "))
        lines.append("  fails: " + ", ".join(f.properties))
        if f.hazard:
            lines.append(f"  hazard: {f.hazard}")
        if f.threshold:
            lines.append(f"  threshold: {f.threshold}")
        if f.message and f.message not in f.summary:
            lines.append(_indent(f.message, "  "))
        if f.counterexample:
            lines.append("  minimal counterexample:")
            lines.append(_indent(f.counterexample))
        if f.reproduce:
            lines.append(f"  reproduce: {reproduce_env}{f.reproduce}")
    others = [f for f in result.findings if not f.fails_run]
    if others:
        lines.append("")
        lines.append("not failing this run (class not in fail_on):")
        for f in others:
            lines.append(f"  finding #{f.id + 1}: {f.cls} — {f.precision}: {f.summary.splitlines()[0] if f.summary else ''}")
    if not result.failing:
        # Exit code 1 without a failing finding: say what gradproof printed instead.
        lines.append("")
        lines.append("gradproof's report:")
        lines.append(_indent(result.output[-4000:]))
    return "\n".join(lines)
