"""Agreement of the law engine with public legal analysis of well-known incidents.

Each file in ``benchmarks/law_scenarios/`` holds the facts of one public incident or
hypothetical case (written by us from public reporting), the findings that the cited public
legal analysis supports, and sometimes the response options it supports. The script assesses
every scenario and prints, per rule and overall, how often the engine's level equals the
expected one, and lists each disagreement.

    python benchmarks/law_eval.py [--scenarios DIR] [--verbose]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import yaml

from cyberpeace.law import assess, facts_from_dict

HERE = Path(__file__).parent / "law_scenarios"


def evaluate(folder: Path, verbose: bool) -> float:
    per_rule: dict[str, list[bool]] = defaultdict(list)
    misses: list[str] = []
    files = sorted(folder.glob("*.yaml"))
    for path in files:
        scenario = yaml.safe_load(path.read_text("utf-8"))
        result = assess(facts_from_dict(scenario["facts"], str(path)))
        wanted = {**scenario.get("expected", {}), **_prefixed(scenario.get("responses", {}))}
        for key, level in wanted.items():
            got = _got(result, key)
            per_rule[key].append(got == level)
            if got != level:
                misses.append(f"  {path.stem:<26} {key:<28} expected {level!r:<20} got {got!r}")
        if verbose:
            print(f"{path.stem}: {scenario['title']}\n  ({scenario['citation']})")
    total = [ok for oks in per_rule.values() for ok in oks]
    print(f"{len(files)} scenarios, {len(total)} expected findings and response options")
    print(f"{'rule or option':<28} {'agree':>7} {'of':>4}")
    for key in sorted(per_rule):
        oks = per_rule[key]
        print(f"{key:<28} {sum(oks):>7} {len(oks):>4}")
    share = sum(total) / len(total)
    print(f"overall agreement: {sum(total)}/{len(total)} = {share:.1%}")
    if misses:
        print("disagreements:")
        print("\n".join(misses))
    return share


def _prefixed(responses: dict[str, str]) -> dict[str, str]:
    return {f"response:{option}": status for option, status in responses.items()}


def _got(result: object, key: str) -> str:
    from cyberpeace.law import Assessment

    assert isinstance(result, Assessment)
    if key.startswith("response:"):
        return result.response(key.removeprefix("response:")).status
    return result.finding(key).level


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=Path, default=HERE)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    evaluate(args.scenarios, args.verbose)


if __name__ == "__main__":
    main()
