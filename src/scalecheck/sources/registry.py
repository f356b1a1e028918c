"""The registry of importers ("sources"), in the style of lm-evaluation-harness's model registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, ScalecheckError, did_you_mean
from ..schema import Tables


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    reader: Callable[..., Tables]  # reader(path, **options)
    # What ``path`` should be: "folder" or "file"; shown by ``scalecheck sources``.
    expects: str
    # Where the published copy lives under the shared data folder, if we hold one.
    shared_folder: str | None = None
    # A reader for the copy that ships inside the package (used when no path is given).
    builtin: Callable[[], Tables] | None = None
    # Keyword options the reader accepts beyond the path (e.g. ``ladder`` for lm-eval).
    options: tuple[str, ...] = ()


_REGISTRY: dict[str, Source] = {}


def register(source: Source) -> Source:
    if source.name in _REGISTRY:
        raise ValueError(f"source {source.name!r} registered twice")
    _REGISTRY[source.name] = source
    return source


def available() -> list[Source]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get(name: str) -> Source:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ScalecheckError(f"unknown source {name!r}{did_you_mean(name, _REGISTRY)}; known sources: "
                              f"{', '.join(sorted(_REGISTRY))} (and 'testbed' for a file written by "
                              "`scalecheck import`)") from None


def read(name: str, path: str | Path | None = None, **options) -> Tables:
    """Read ``path`` with the importer ``name``; with no path, the copy built into the package.

    ``options`` go to the reader as keywords; each source declares the ones it takes (``Source.options``).
    """
    source = get(name)
    unknown = sorted(set(options) - set(source.options))
    if unknown:
        takes = f"it takes {', '.join(source.options)}" if source.options else "it takes none"
        raise ScalecheckError(f"source {name!r} has no option {unknown[0]!r}; {takes}")
    if path is None:
        if source.builtin is None:
            raise ScalecheckError(f"source {name!r} has no built-in copy; give a path ({source.expects})")
        return source.builtin()
    p = Path(path)
    if not p.exists():
        raise InputError(p, f"no such {source.expects}")
    if source.expects == "folder" and not p.is_dir():
        raise InputError(p, f"source {name!r} reads a folder, not a file")
    if source.expects == "file" and p.is_dir():
        raise InputError(p, f"source {name!r} reads a file, not a folder")
    return source.reader(p, **options)



def builtin_names() -> list[str]:
    """The sources with a copy built into the package: what ``scalecheck.load(name)`` opens without a path."""
    return sorted(name for name, source in _REGISTRY.items() if source.builtin is not None)
