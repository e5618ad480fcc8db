"""An assessment as text for a person: engaged findings first, then thresholds and responses."""

from __future__ import annotations

from cyberpeace.law.assessment import Assessment, Finding

# How a level reads for kinds where "breached" would be the wrong word.
_READS = {
    "threshold": {
        "breached": "met",
        "likely breached": "likely met",
        "possibly breached": "possibly met",
    },
    "attribution": {
        "breached": "met",
        "likely breached": "likely met",
        "possibly breached": "possibly met",
    },
    "characterisation": {"breached": "applies", "likely breached": "likely applies"},
    "offence": {
        "breached": "matches",
        "likely breached": "likely matches",
        "possibly breached": "possibly matches",
    },
}


def level_text(finding: Finding) -> str:
    return _READS.get(finding.kind, {}).get(finding.level, finding.level)


def assessment_text(assessment: Assessment, *, all_findings: bool = False) -> str:
    """Findings that are engaged or open (all of them with ``all_findings``), then the rest."""
    name = assessment.incident or "the incident"
    lines = [f"assessment of {name} (knowledge {assessment.knowledge_version})"]
    for note in assessment.contradictions:
        lines.append(f"  contradiction: {note}")
    shown = [
        f
        for f in [*assessment.mandate, *assessment.findings]
        if all_findings or f.level != "not engaged"
    ]
    for f in shown:
        lines.append(f"  {f.rule:<26} {level_text(f):<18} {f.title}  [{f.citation}]")
        lines.extend(f"      because {reason}" for reason in f.reasons if not reason.endswith(":"))
        if f.missing:
            lines.append(f"      would change with: {', '.join(f.missing)}")
    lines.append("thresholds:")
    for t in assessment.thresholds:
        lines.append(f"  {t.title:<52} {t.level}")
        for factor in t.factors:
            lines.append(f"      {factor.title:<26} {factor.level}")
    lines.append("responses:")
    for r in assessment.responses:
        met = ", ".join(f"{c.requirement} {c.status}" for c in r.conditions)
        lines.append(f"  {r.option:<18} {r.status:<12} {met}")
    if assessment.missing:
        lines.append(f"missing facts: {', '.join(assessment.missing)}")
    return "\n".join(lines)
