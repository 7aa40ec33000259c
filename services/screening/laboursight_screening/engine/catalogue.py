"""Rule sets by version: the ones shipped with the engine, and any an operator publishes.

Every version that ever produced a finding stays available, unchanged: replay selects one by
name, and the content hash recorded with each finding shows that it is the same artefact. A
version name may appear in one folder only, so a published version cannot be shadowed.
A rule set marked ``status: candidate`` is available by name (screening's ``rule_set``
setting, replay, back-tests) but is never the default. Reading the files is the engine's only
I/O.
"""

from functools import cached_property
from importlib import resources
from importlib.resources.abc import Traversable

import yaml

from .compiled import CompiledRuleSet, compile_rule_set
from .ruleset import RuleSet

SUFFIX = ".yaml"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class Catalogue:
    def __init__(self, *folders: Traversable) -> None:
        self._folders = folders
        self._loaded: dict[str, RuleSet] = {}
        self._compiled: dict[str, CompiledRuleSet] = {}

    @cached_property
    def _files(self) -> dict[str, Traversable]:
        files: dict[str, Traversable] = {}
        for folder in self._folders:
            for entry in folder.iterdir():
                if not entry.name.endswith(SUFFIX):
                    continue
                version = entry.name.removesuffix(SUFFIX)
                if version in files:
                    raise ValueError(f"rule set {version} is published in two folders")
                files[version] = entry
        return files

    def versions(self) -> list[str]:
        """Every available version, oldest first."""
        return sorted(self._files, key=_version_key)

    def current_version(self) -> str:
        """The newest version that is not a candidate: what screens when none is named."""
        published = [v for v in self.versions() if self.load(v).status == "published"]
        if not published:
            raise ValueError("no published rule set: every one is a candidate")
        return published[-1]

    def load(self, version: str) -> RuleSet:
        if version not in self._loaded:
            if version not in self._files:
                known = ", ".join(self.versions())
                raise ValueError(f"unknown rule set '{version}'; known: {known}")
            raw = yaml.safe_load(self._files[version].read_text("utf-8"))
            rule_set = RuleSet.model_validate(raw)
            if rule_set.version != version:
                raise ValueError(f"{version}{SUFFIX} declares version {rule_set.version}")
            self._loaded[version] = rule_set
        return self._loaded[version]

    def compiled(self, version: str) -> CompiledRuleSet:
        if version not in self._compiled:
            self._compiled[version] = compile_rule_set(self.load(version))
        return self._compiled[version]


SHIPPED_FOLDER: Traversable = resources.files("laboursight_screening") / "rulesets"
SHIPPED = Catalogue(SHIPPED_FOLDER)
