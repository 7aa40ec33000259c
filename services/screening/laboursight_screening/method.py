"""The open method: a rule set rendered as a document an analyst or auditor can read.

Generated from the rule set itself, so the document cannot drift from what the engine does.
``laboursight-rules document 2026.11.0 -o services/screening/method/2026.11.0.md``. A rule set
that judges per dimension gets the sections that judging needs (its sources, the ILO/EC
dimensions with the grade and source of every rule's signal, the thresholds with their sources,
the contradictions); the document of a pooled rule set is what it always was.
"""

import argparse
import json
import sys
from pathlib import Path

from pydantic import TypeAdapter

from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.findings import (
    ALL_INDICATORS,
    CONTEXT_INDICATORS,
    DIMENSIONS,
    SCORE_BANDS,
)
from laboursight_schemas.reference import load_reference

from .engine import SHIPPED, SHIPPED_FOLDER, Catalogue, CompiledRuleSet, screen
from .engine.judgement import CHILD_LABOUR, THRESHOLD_MET
from .engine.measures import MEASURES, Measure
from .engine.ruleset import (
    All,
    Any_,
    Compare,
    Condition,
    FieldRef,
    Not,
    Rule,
    RuleSet,
    Unless,
    WatchlistScreening,
)

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


def _rule(rule: Rule, rule_set: RuleSet) -> list[str]:
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
        *_sourcing(rule, rule_set),
    ]
    return lines


def _sourcing(rule: Rule, rule_set: RuleSet) -> list[str]:
    """A per-dimension rule's source grades, survey element, note and thresholds."""
    lines = [
        f"**ILO/EC:** {ref.dimension}, “{ref.indicator}”, source grade "
        f"{rule_set.dimensions[ref.dimension].grade_of(ref.indicator)} (ilo_ec_2009)"
        + (f"; counted {ref.counted_as}: {ref.note}" if ref.counted_as else "")
        for ref in rule.ilo_ec
    ]
    if rule.source_note:
        lines.append(f"**Source note:** {rule.source_note}")
    if rule.survey:
        lines.append(f"**ILO definition:** shows {rule.survey.replace('_', ' ')}")
    lines += [
        f"**Threshold:** `{t.subject}` {t.value:g}, source: {t.source}" for t in rule.thresholds
    ]
    return [line for item in lines for line in (item, "")]


def _severities(rule: Rule) -> str:
    graded = dict.fromkeys([g.severity for g in rule.severity.grades] + [rule.severity.default])
    return " / ".join(graded)


def _judgement(rule_set: RuleSet) -> list[str]:
    if rule_set.judgement == "per_dimension":
        return _judgement_per_dimension(rule_set)
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
        _scoring(rule_set),
        "- **Confidence**: the share of the indicators a disclosure of that kind can show (the "
        "ones with rules below for it) that could be assessed. An indicator is assessed when at "
        "least one of its rules could be decided either way.",
        "- **Context** (`"
        + "`, `".join(_context_indicators(rule_set))
        + "`) is reported with the findings and in the explanation, and never counted.",
        "",
    ]


def _scoring(rule_set: RuleSet) -> str:
    points = rule_set.scoring.strength_points
    weights = rule_set.scoring.severity_weight
    bands = ", ".join(f"{level} {low}-{high}" for level, (low, high) in SCORE_BANDS.items())
    return (
        f"- **Score** 0-100: each level owns a band ({bands}), so a score always reads as its "
        "level. Within the band, score = bottom of the band + (points / 100) x width of the "
        "band, at most the top of the band. Each counted finding adds its strength points ("
        + ", ".join(f"{s} {p}" for s, p in points.items())
        + ") times its severity weight ("
        + ", ".join(f"{s} {w:g}" for s, w in weights.items())
        + ")."
    )


def _judgement_per_dimension(rule_set: RuleSet) -> list[str]:
    return [
        "## From findings to a judgement",
        "",
        "One finding per indicator: its strength is the strongest rule that fired, its severity "
        "the gravest, and its evidence lists every field each fired rule read. Each rule's "
        "signal is mapped to the graded indicator it is an instance of in the ILO/EC list "
        "(ilo_ec_2009), at the source's grade or, where the disclosure shows only part of the "
        "indicator, at a lower grade with a note; a rule's strength is the strongest grade it "
        "counts with. A signal the source does not grade says so and counts towards no "
        "dimension.",
        "",
        "- **Each dimension** is decided on its own, by the ILO/EC combination rule over its "
        "distinct source indicators shown (each at the strongest grade a fired rule gives it): "
        "positive with 2 strong, or 1 strong and 1 medium or weak, or 3 medium, or 2 medium and "
        "1 weak; weak indicators alone never. Indicators are never pooled across dimensions. "
        "When a recruitment dimension, exploitation, and coercion or abuse of vulnerability at "
        "destination are all positive, the explanation says that the ILO/EC indicators of "
        "trafficking combine.",
        "- **The indicator threshold for forced labour** needs both elements of the ILO "
        "definition (ilo_2012, icls_2018): *involuntariness* (unfree recruitment, work and "
        "life under duress, impossibility of leaving the employer) and *menace of penalty*. "
        "Each rule that shows one says which; the threshold is met when the findings show "
        f"both. The judgement then reads “{THRESHOLD_MET}”: a self-disclosure can meet an "
        "indicator threshold, never establish forced labour. The judgement lists the "
        "dimensions found positive (`dimensions_positive`) and the elements shown "
        "(`elements_present`).",
        "- **Risk level** (over every finding except context): *critical* when the threshold "
        "is met and two strong findings are of high severity or worse, or one strong finding "
        "is critical; *high* when the threshold is met, or any strong finding is of high "
        "severity or worse, or any finding is critical; *medium* when there is any finding but "
        "a weak one of low severity; *low* otherwise.",
        *_child_labour(rule_set),
        _scoring(rule_set),
        "- **Confidence**: the share of the indicators a disclosure of that kind can show (the "
        "ones with rules below for it) that could be assessed, less "
        f"{rule_set.contradiction_penalty:g} for each contradiction found (never below 0). "
        "An indicator is assessed when at least one of its rules could be decided either way.",
        "- **Contradictions**: fields of one disclosure that cannot all be true are reported "
        "beside the findings (`contradictions`), each naming every field it read, and listed "
        "in the judgement. They are never resolved to the reassuring reading: the rules read "
        "the worse one.",
        "- **Context** (`"
        + "`, `".join(_context_indicators(rule_set))
        + "`) is "
        + (
            "reported beside the findings (`context`), never among them, and in the "
            "explanation; it is never counted."
            if rule_set.context == "separate"
            else "reported with the findings and in the explanation, and never counted."
        ),
        "",
    ]


def _child_labour(rule_set: RuleSet) -> list[str]:
    """How child-labour findings weigh, for a rule set that makes them."""
    if not CHILD_LABOUR & {rule.indicator for rule in rule_set.rules}:
        return []
    return [
        "- **Child labour** (`child_labour`, `hazardous_work_by_children`) is judged by ILO "
        "C138 and C182 on their own: it counts towards no ILO/EC dimension and never towards "
        "the forced-labour threshold, and the explanation names it apart. Both are strong "
        "findings: a worker below the minimum age of 15 is of high severity (critical below "
        "13), and hazardous work by anyone under 18, a worst form of child labour, is critical "
        "(high when night work is the only hazard named). Either raises the entity to high risk "
        "at least, and with it the risk-level and strong-indicator alerts, even when no "
        "dimension is positive; with the threshold met, a critical one makes the level "
        "critical. Workers aged 15 to 17 in work that is neither hazardous nor at night produce "
        "no finding, and a head count of under-18s without their ages leaves child labour "
        "unassessed, never found.",
    ]


def _sources(rule_set: RuleSet) -> list[str]:
    return [
        "## Sources",
        "",
        "The rules cite these works by their key.",
        "",
        *(f"- `{key}`: {text}" for key, text in rule_set.sources.items()),
        "",
    ]


def _dimensions(rule_set: RuleSet) -> list[str]:
    lines = [
        "## The ILO/EC dimensions and the signals graded in each",
        "",
        "Each dimension's indicators as the source grades them (ilo_ec_2009, adults, labour "
        "exploitation), and the rules whose signal counts as each. An indicator with no rule "
        "is one a disclosure cannot show.",
        "",
    ]
    for dimension in DIMENSIONS:
        listing = rule_set.dimensions[dimension]
        lines += [f"### {listing.title} (`{dimension}`, {listing.stage} stage)", ""]
        lines += ["| source grade | indicator | rules (counted as) |", "|---|---|---|"]
        for grade in ("strong", "medium", "weak"):
            for indicator in getattr(listing, grade):
                rules = [
                    f"`{r.id}` ({ref.counted_as or grade})"
                    for r in rule_set.rules
                    for ref in r.ilo_ec
                    if ref.dimension == dimension and ref.indicator == indicator
                ]
                lines.append(f"| {grade} | {indicator} | {', '.join(rules) or '-'} |")
        lines.append("")
    ungraded = [r for r in rule_set.rules if not r.ilo_ec]
    lines += [
        "### Signals the ILO/EC list does not grade",
        "",
        *(f"- `{r.id}`: {r.source_note}" for r in ungraded),
        "",
        "### The elements of the ILO definition each signal shows",
        "",
        "| rule | element |",
        "|---|---|",
        *(
            f"| `{r.id}` | {r.survey.replace('_', ' ')} |"
            for r in rule_set.rules
            if r.survey is not None
        ),
        "",
    ]
    return lines


def _thresholds(rule_set: RuleSet) -> list[str]:
    return [
        "## Thresholds and their sources",
        "",
        "Every number a rule compares a field or measure with (zero, which reads “any at all”, "
        "aside), and where it comes from. `laboursight` marks a severity grade of our own.",
        "",
        "| rule | field or measure | threshold | source |",
        "|---|---|---|---|",
        *(
            f"| `{r.id}` | `{t.subject}` | {t.value:g} | {t.source} |"
            for r in rule_set.rules
            for t in r.thresholds
        ),
        "",
    ]


def _context_indicators(rule_set: RuleSet) -> list[str]:
    """The context a rule set can report: a watchlist match only where it screens them."""
    return sorted(
        i for i in CONTEXT_INDICATORS if i != "watchlist_match" or rule_set.watchlists is not None
    )


def _watchlists(screening: WatchlistScreening) -> list[str]:
    return [
        "## Watchlists",
        "",
        "The supplier or recruiter of every disclosure is screened against the watchlists the "
        "operator loads (`SCREENING_WATCHLISTS_DIR`; lists shaped like the US DHS UFLPA Entity "
        "List and CBP Withhold Release Orders: name, aliases, address, country, reference, "
        "listed-on date, each list in versioned editions). The list shipped with laboursight "
        "is fictional, for tests and the demo. Every name and alias the disclosure gives "
        "(`name`, `aliases`) is compared with every name and alias of every entry; an entry "
        "that lists another country than the entity's is never a match, and an address "
        f"scoring {screening.address_threshold:g} or more supports a name match, never makes "
        f"one. A name scoring **{screening.threshold:g}** or more (rapidfuzz "
        "`token_sort_ratio`, 0-100, after normalisation) is a possible match.",
        "",
        f"{screening.rationale}",
        "",
        "A possible match is **context, never a finding**: a `watchlist_match` beside the "
        "findings (`context`) naming the list, its edition, the entry's reference and listed-on "
        "date, the score and which disclosure field matched which field of the entry; the event "
        "lists every edition screened (`watchlists`), matched or not. It is not judged, so it "
        "changes no dimension, level, score or confidence, and it raises a `watchlist_review` "
        "alert (“possible match on <list> — review”) for an analyst to confirm or dismiss. "
        "Rule set 2026.11.0 screens no watchlist.",
        "",
    ]


def _contradictions(rule_set: RuleSet) -> list[str]:
    lines = ["## Contradictions", ""]
    for spec in rule_set.contradictions:
        lines += [
            f"#### `{spec.id}`",
            "",
            f"*{' and '.join(spec.applies_to)} disclosures*",
            "",
            "**Found when:**",
            "",
            *_condition(spec.when, 0),
            "",
            f"**Says:** “{spec.explanation}”",
            "",
            f"**Assessed:** {spec.assessed}",
            "",
        ]
    return lines


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
    for finding in result.context or ():
        lines.append(f"- context, not a finding: `{finding.indicator}`")
    for contradiction in result.contradictions or ():
        lines.append(f"- contradiction `{contradiction.rule_id}`: “{contradiction.explanation}”")
    if rule_set.judgement == "per_dimension":
        met = "yes" if judgement.forced_labour_likely else "no"
        return [
            *lines,
            "",
            f"and this judgement: indicator threshold met: {met}; dimensions positive: "
            f"{', '.join(judgement.dimensions_positive or []) or 'none'}; risk level "
            f"{judgement.risk_level}; score {judgement.score}; confidence "
            f"{judgement.confidence:.2f}. “{judgement.explanation}”",
            "",
        ]
    return [
        *lines,
        "",
        f"and this judgement: forced labour likely: {'yes' if judgement.forced_labour_likely else 'no'}; "
        f"risk level {judgement.risk_level}; score {judgement.score}; confidence "
        f"{judgement.confidence:.2f}. “{judgement.explanation}”",
        "",
    ]


def _measures_read(rule_set: RuleSet) -> list[Measure]:
    """The measures the rule set's rules read: a rule set published before a measure existed
    documents what it had, and keeps its document."""
    text = rule_set.model_dump_json()
    return [m for m in MEASURES.values() if m.name in text]


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
        *(
            [*_sources(rule_set), *_dimensions(rule_set), *_thresholds(rule_set)]
            if rule_set.judgement == "per_dimension"
            else []
        ),
        *(_contradictions(rule_set) if rule_set.contradictions else []),
        *(_watchlists(rule_set.watchlists) if rule_set.watchlists else []),
        "## Measures",
        "",
        "Quantities derived from several fields. A measure is unknown unless all its inputs are. "
        "The exchange rates and the DOL list come from a reference-data edition, versioned apart "
        "from the rules and named with every finding.",
        "",
        *(f"- `{m.name}`: {m.description}" for m in _measures_read(rule_set)),
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
            *(line for rule in rules for line in _rule(rule, rule_set)),
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
