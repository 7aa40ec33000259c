"""The open method: a rule set rendered as a document an analyst or auditor can read.

Generated from the rule set itself, so the document cannot drift from what the engine does.
``laboursight-rules document 2026.11.0 -o services/screening/method/2026.11.0.md``.
"""

import argparse
import json
import sys
from pathlib import Path

from pydantic import TypeAdapter

from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.findings import ALL_INDICATORS, CONTEXT_INDICATORS, SCORE_BANDS
from laboursight_schemas.reference import load_reference

from .engine import SHIPPED, SHIPPED_FOLDER, Catalogue, CompiledRuleSet, screen
from .engine.measures import MEASURES
from .engine.ruleset import All, Any_, Compare, Condition, FieldRef, Not, Rule, RuleSet, Unless

WORDS = {
    "eq": "is",
    "ne": "is not",
    "gt": "is more than",
    "ge": "is at least",
    "lt": "is less than",
    "le": "is at most",
    "in": "is one of",
}


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, FieldRef):
        return f"`{value.field}`"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _condition(spec: Condition, depth: int) -> list[str]:
    pad = "  " * depth
    if isinstance(spec, Compare):
        subject = f"`{spec.field}`" if spec.field else f"measure `{spec.measure}`"
        op, operand = spec.test
        return [f"{pad}- {subject} {WORDS[op]} {_value(operand)}"]
    if isinstance(spec, All | Any_):
        parts, head = (spec.all, "all of") if isinstance(spec, All) else (spec.any, "any of")
        return [f"{pad}- {head}:", *(ln for p in parts for ln in _condition(p, depth + 1))]
    if isinstance(spec, Not):
        return [f"{pad}- it is known that this does not hold:", *_condition(spec.not_, depth + 1)]
    assert isinstance(spec, Unless)
    return [f"{pad}- unless it is known that:", *_condition(spec.unless, depth + 1)]


def _rule(rule: Rule) -> list[str]:
    kinds = " and ".join(rule.applies_to)
    lines = [
        f"#### `{rule.id}`",
        "",
        f"*{rule.strength} indicator · {kinds} disclosures*",
        "",
    ]
    if rule.for_each:
        lines += [f"Tried on each entry of `{rule.for_each}` (called `item` below).", ""]
    lines += ["**Fires when:**", "", *_condition(rule.when, 0), "", "**Severity:**", ""]
    for grade in rule.severity.grades:
        lines += [f"- **{grade.severity}** when:", *_condition(grade.when, 1)]
    otherwise = "otherwise " if rule.severity.grades else ""
    lines += [
        f"- {otherwise}**{rule.severity.default}**",
        "",
        f"**Says:** “{rule.explanation}”",
        "",
        f"**Why:** {rule.rationale}",
        "",
    ]
    return lines


def _severities(rule: Rule) -> str:
    graded = dict.fromkeys([g.severity for g in rule.severity.grades] + [rule.severity.default])
    return " / ".join(graded)


def _judgement(rule_set: RuleSet) -> list[str]:
    points = rule_set.scoring.strength_points
    weights = rule_set.scoring.severity_weight
    bands = ", ".join(f"{level} {low}-{high}" for level, (low, high) in SCORE_BANDS.items())
    return [
        "## From findings to a judgement",
        "",
        "One finding per indicator: its strength is the strongest rule that fired, its severity "
        "the gravest, and its evidence lists every field each fired rule read.",
        "",
        "- **Forced labour likely** (the ILO/EC combination rule, over the 11 ILO indicators "
        "only): 2 strong, or 1 strong and 1 medium or weak, or 3 medium, or 2 medium and 1 weak. "
        "Weak indicators alone never make it likely.",
        "- **Risk level** (over every finding except context): *critical* when forced labour is "
        "likely and two strong findings are of high severity or worse, or one strong finding is "
        "critical; *high* when forced labour is likely, or any strong finding is of high severity "
        "or worse, or any finding is critical; *medium* when there is any finding but a weak one of low "
        "severity; *low* otherwise.",
        f"- **Score** 0-100: each level owns a band ({bands}), so a score always reads as its "
        "level. Within the band, score = bottom of the band + (points / 100) x width of the "
        "band, at most the top of the band. Each counted finding adds its strength points ("
        + ", ".join(f"{s} {p}" for s, p in points.items())
        + ") times its severity weight ("
        + ", ".join(f"{s} {w:g}" for s, w in weights.items())
        + ").",
        "- **Confidence**: the share of the indicators a disclosure of that kind can show (the "
        "ones with rules below for it) that could be assessed. An indicator is assessed when at "
        "least one of its rules could be decided either way.",
        "- **Context** (`"
        + "`, `".join(sorted(CONTEXT_INDICATORS))
        + "`) is reported with the findings and in the explanation, and never counted.",
        "",
    ]


def _example(rule_set: RuleSet, rules: CompiledRuleSet) -> list[str]:
    reference = load_reference()
    result = screen(TypeAdapter(Disclosure).validate_python(rule_set.example), rules, reference)
    judgement = result.judgement
    lines = [
        "## A worked example",
        "",
        f"This disclosure, screened by this rule set with reference data edition "
        f"{reference.edition}:",
        "",
        "```json",
        json.dumps(rule_set.example, indent=2, ensure_ascii=False),
        "```",
        "",
        "gives these findings, each with the fields it cites as evidence:",
        "",
    ]
    for finding in result.findings:
        lines.append(f"- `{finding.indicator}`: {finding.strength}, severity {finding.severity}")
        rules_fired = dict.fromkeys((e.rule_id, e.explanation) for e in finding.evidence)
        for rule_id, explanation in rules_fired:
            cited = ", ".join(
                f"`{e.field}` = {json.dumps(e.value)}"
                for e in finding.evidence
                if e.rule_id == rule_id
            )
            lines.append(f"  - `{rule_id}` read {cited}: “{explanation}”")
    return [
        *lines,
        "",
        f"and this judgement: forced labour likely: {'yes' if judgement.forced_labour_likely else 'no'}; "
        f"risk level {judgement.risk_level}; score {judgement.score}; confidence "
        f"{judgement.confidence:.2f}. “{judgement.explanation}”",
        "",
    ]


def document(version: str, catalogue: Catalogue = SHIPPED) -> str:
    rule_set = catalogue.load(version)
    compiled = catalogue.compiled(version)
    lines = [
        f"# Rule set {rule_set.version}: {rule_set.title}",
        "",
        "<!-- generated by `laboursight-rules document`; do not edit by hand -->",
        "",
        f"- Published: {rule_set.published.isoformat()}",
        f"- Content hash: `{compiled.content_hash}` (recorded with every finding it produces)",
        f"- Rules: {len(rule_set.rules)}",
        "",
        rule_set.summary,
        "",
        "## How to read a rule",
        "",
        "A rule fires only when its condition is known to be true. A field that is null or "
        "absent is *unknown*: a comparison with it is unknown, *all of* is false when any part is "
        "false and unknown when any part is unknown, *any of* is true when any part is true, and "
        "*unless it is known that* blocks the rule only on positive evidence. So a missing signal "
        "never produces a finding; it leaves its indicator unassessed, which lowers confidence. "
        "Field names are paths in the disclosure (DOMAIN.md, disclosure contract v1). In what "
        "a rule says, `{field}` stands for the value disclosed and `{measure:name}` for a "
        "measure; a finding cites each known field the rule read as evidence.",
        "",
        *_judgement(rule_set),
        "## Measures",
        "",
        "Quantities derived from several fields. A measure is unknown unless all its inputs are. "
        "The exchange rates and the DOL list come from a reference-data edition, versioned apart "
        "from the rules and named with every finding.",
        "",
        *(f"- `{m.name}`: {m.description}" for m in MEASURES.values()),
        "",
        *_example(rule_set, compiled),
        "## Rules at a glance",
        "",
        "| indicator | rule | strength | disclosures | severities it can give |",
        "|---|---|---|---|---|",
        *(
            f"| `{r.indicator}` | `{r.id}` | {r.strength} | {', '.join(r.applies_to)} | "
            f"{_severities(r)} |"
            for indicator in ALL_INDICATORS
            for r in rule_set.rules
            if r.indicator == indicator
        ),
        "",
        "## Rules by indicator",
        "",
    ]
    for indicator in ALL_INDICATORS:
        rules = [r for r in rule_set.rules if r.indicator == indicator]
        if not rules:
            continue
        lines += [
            f"### `{indicator}`",
            "",
            rule_set.indicators[indicator],
            "",
            *(line for rule in rules for line in _rule(rule)),
        ]
    return "\n".join(lines).rstrip() + "\n"


def _folder(text: str) -> Path:
    folder = Path(text)
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"not a folder: {text}")
    return folder


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="laboursight-rules", description=__doc__)
    parser.add_argument(
        "--rule-sets", type=_folder, help="a folder of operator-published rule sets, besides ours"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every shipped rule set, with its content hash")
    doc = commands.add_parser("document", help="render a rule set as Markdown")
    doc.add_argument("version", nargs="?", help="default: the newest")
    doc.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    code = commands.add_parser("source", help="the Python generated from a rule set's conditions")
    code.add_argument("version")
    code.add_argument("kind", choices=["supplier", "recruiter"])
    return parser


def _run(args: argparse.Namespace, catalogue: Catalogue) -> None:
    if args.command == "list":
        for version in catalogue.versions():
            print(version, catalogue.compiled(version).content_hash)
        return
    if args.command == "source":
        print(catalogue.compiled(args.version).truths[args.kind].source)
        return
    text = document(args.version or catalogue.current_version(), catalogue)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    catalogue = SHIPPED if args.rule_sets is None else Catalogue(SHIPPED_FOLDER, args.rule_sets)
    try:
        _run(args, catalogue)
    except ValueError as error:
        # An unknown version, or a rule set that does not load: the arguments named it.
        parser.error(str(error))
    except OSError as error:
        sys.exit(f"laboursight-rules: {error}")
