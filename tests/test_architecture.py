"""The layers of docs/architecture.md hold beyond Python imports (lint-imports checks those):
migrations depend only on apps at or below their own, and the layers named in pyproject.toml
are the project's apps."""

import tomllib
from pathlib import Path

from django.conf import settings
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parent.parent


def layers() -> list[set[str]]:
    """The layers contract of pyproject.toml, top first: the one place they are declared."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["type"] == "layers"]
    return [{name.strip() for name in layer.split("|")} for layer in contract["layers"]]


def depth() -> dict[str, int]:
    """Each app's layer, counted from the ground (0)."""
    stack = list(reversed(layers()))
    return {app: level for level, names in enumerate(stack) for app in names}


def test_the_layers_name_every_project_app_once():
    named = [app for layer in layers() for app in layer]
    assert sorted(named) == sorted([*settings.PROJECT_APPS, "walkandtalk"])


def test_migrations_depend_only_on_apps_at_or_below_their_own():
    level = depth()
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    upward = [
        f"{key[0]}.{key[1]} -> {parent.key[0]}.{parent.key[1]}"
        for key, node in graph.node_map.items()
        if key[0] in level
        for parent in node.parents
        if parent.key[0] in level and level[parent.key[0]] > level[key[0]]
    ]
    assert upward == []


def test_no_app_reaches_up_by_name():
    """apps.get_model("higher_app", ...) would hide an upward dependency from lint-imports: a
    lower app lets a higher one take part through a signal or a registry instead."""
    level = depth()
    reaches = []
    for app, app_level in level.items():
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            for other, other_level in level.items():
                if other_level > app_level and (
                    f'get_model("{other}"' in text or f"get_model('{other}'" in text
                ):
                    reaches.append(f"{path.relative_to(ROOT)} -> {other}")
    assert reaches == []
