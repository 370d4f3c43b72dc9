"""What the package says of itself: one version, the licence its metadata names."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import newsmirror

ROOT = Path(__file__).resolve().parent.parent


def test_the_installed_version_is_the_one_in_the_source() -> None:
    assert importlib.metadata.version("newsmirror") == newsmirror.__version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project  # read from newsmirror.__version__, nowhere else
    assert project["dynamic"] == ["version"]


def test_the_licence_file_is_the_licence_the_metadata_names() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
