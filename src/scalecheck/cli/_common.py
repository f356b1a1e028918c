"""What the sub-commands share: the testbed argument, the selection and run options, one run skeleton.

A new analysis command is built from these pieces, so the same flag means the same thing everywhere::

    def add_parsers(sub):
        p = sub.add_parser("my-analysis", help="...", formatter_class=HelpFormatter, description=DESCRIPTION)
        add_testbed_argument(p)                              # TESTBED: a file or a built-in name (gadre2024)
        add_selection_options(p, by_default="corpus")        # --x --by --tasks --metric --shots --variant
                                                             # --checkpoints
        add_run_options(p, output_default="scalecheck-my")   # --seed --level --output
        p.set_defaults(func=run_my_analysis)

    def run_my_analysis(args):
        def compute(testbed, selection, progress):           # progress("label") -> a Progress callback
            return my_api(testbed, selection=selection, seed=args.seed, progress=progress("analysing"))
        def write(result, testbed, out_dir, progress):
            return result.write(out_dir)                     # the files written (a ReportFiles)
        return run_analysis(args, compute, write, render=lambda result, console: console.print(...))

:func:`run_analysis` opens the testbed, builds the validated :class:`~scalecheck.observations.Selection`
from the options, owns the progress display (rich, on stderr, only on a terminal; the API only calls
``progress(done, total, what)``, see :mod:`scalecheck.progress`), prints the result, and ends with one
"wrote ... (N s)" line. Options a command does not take are listed in its help with the reason
(``not_here=``). Heavy libraries (pandas, rich, the analyses) are imported inside the functions, so that
``scalecheck --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

TESTBED_HELP = ("a testbed file written by `scalecheck import` (.parquet) or a long-format CSV, or the name of a "
                "built-in testbed (see `scalecheck sources`); default: the built-in Gadre et al. 2024 testbed")
DEFAULT_TESTBED = "gadre2024"
X_HELP = ("what scores are plotted against: a validation loss (c4_val, ...) or params/params_nonembed/tokens/flops "
          "(default: c4_val where the testbed has it, else its first validation loss, else flops)")
CHECKPOINTS_HELP = ("of a run's intermediate checkpoints, keep the last (a model at scale) or all of them")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``scalecheck COMMAND: error: ...``) and exit 2, like every
    other error of the command; the usage is one ``--help`` away."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def number_in(low: float, high: float, *, low_open: bool = True, high_open: bool = True, kind: type = float,
              what: str = "a number"):
    """An argparse ``type`` that reads a ``kind`` and checks it lies between ``low`` and ``high`` (each end open
    or closed): ``--alpha 2`` or ``--n-boot -5`` is one line and exit 2 before anything runs."""
    lo_b, hi_b = "(" if low_open else "[", ")" if high_open else "]"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        below = value <= low if low_open else value < low
        above = value >= high if high_open else value > high
        if below or above:
            raise argparse.ArgumentTypeError(f"{text} is outside {lo_b}{low:g}, {high:g}{hi_b}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


ALPHA = number_in(0.0, 1.0, what="a level between 0 and 1")  # a significance level: 0 < alpha < 1
LEVEL = number_in(0.0, 1.0, what="a coverage between 0 and 1")  # an interval's coverage: 0 < level < 1
N_BOOT_MAX = 10_000  # more replicates than any interval needs (1,000 is the usual); 1e8 exhausted memory
N_BOOT = number_in(0, N_BOOT_MAX, low_open=False, high_open=False, kind=int, what="a whole number of replicates")


def check_output_dir(path: str | Path, flag: str = "--output", *, shown: str | Path | None = None) -> None:
    """Make sure ``path`` is, or can be made, a folder this process can write, before any work starts; nothing is
    created (a refused run leaves no folder behind). A one-line error otherwise: a file where a folder is wanted, a
    parent that is a file, no permission, a read-only file system. ``shown``: the path the user gave, where
    ``path`` is its folder."""
    import errno
    import tempfile

    from ..errors import ScalecheckError

    out = Path(path)
    shown = out if shown is None else shown
    if out.exists() and not out.is_dir():
        if shown != out:
            raise ScalecheckError(f"{flag} {shown}: cannot write there (a part of the path is a file, not a folder)")
        raise ScalecheckError(f"{flag} {out}: is a file, not a folder (give a folder for the results)")
    # The deepest part of the path that exists: the folder is created in it, so it must be a folder we can write.
    existing = next(p for p in (out, *out.absolute().parents) if p.exists() or p == Path(p.anchor))
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder")
        with tempfile.TemporaryFile(dir=existing):  # root ignores mode bits: only a real write tells
            pass
    except OSError as exc:
        why = {errno.ENOTDIR: "a part of the path is a file, not a folder",
               errno.EEXIST: "a part of the path is a file, not a folder"}.get(exc.errno, exc.strerror or str(exc))
        raise ScalecheckError(f"{flag} {shown}: cannot write there ({why})") from None


def check_output_file(path: str | Path, suffixes: tuple[str, ...], flag: str = "--output") -> None:
    """Make sure ``path`` names a file with one of ``suffixes`` that this process can write (its folder may still be
    missing), before any work starts. A one-line error otherwise."""
    from ..errors import ScalecheckError

    out = Path(path)
    if out.is_dir():
        raise ScalecheckError(f"{flag} {out}: is a folder, not a file (give a file name ending in "
                              f"{' or '.join(suffixes)})")
    if out.suffix.lower() not in suffixes:
        raise ScalecheckError(f"{flag} {out}: unsupported file type {out.suffix or '(none)'!r} (expected "
                              f"{' or '.join(suffixes)})")
    check_output_dir(out.parent, flag, shown=out)


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the examples in descriptions as written and shows defaults (where the help does not already
    say what the default is, and there is one)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or "default" in text:
            return text
        return super()._get_help_string(action)


def add_testbed_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("testbed", nargs="?", default=None, metavar="TESTBED", help=TESTBED_HELP)


def open_testbed(name_or_path: str | None):
    """A testbed file, or a built-in testbed by name (the names ``scalecheck.load`` opens without a path)."""
    from ..errors import InputError
    from ..observations import Testbed, load
    from ..sources import builtin_names

    if name_or_path is None:
        return load(DEFAULT_TESTBED)
    path = Path(name_or_path)
    if path.exists():
        return Testbed.read(path)
    if name_or_path in builtin_names():
        return load(name_or_path)
    from ..errors import did_you_mean

    hint = did_you_mean(name_or_path, builtin_names())
    raise InputError(path, f"no such file, nor a built-in testbed{hint} (built in: {', '.join(builtin_names())})")


def check_metrics(testbed, metric: str | None) -> None:
    """Every name in ``--metric`` (comma-separated where a command takes several) is one the testbed has: a typo
    is refused with the closest name instead of being dropped."""
    if not metric:
        return
    from ..errors import SelectionError
    from ..observations.selection import did_you_mean

    known = sorted(map(str, testbed.scores["metric"].dropna().unique()))
    for name in (m.strip() for m in metric.split(",")):
        if name not in known:
            raise SelectionError(f"unknown metric {name!r}{did_you_mean(name, known)}; the testbed has: "
                                 f"{', '.join(known)}")


def normalise_by(value: str | None) -> str | None:
    """``--by none`` (or an empty value) pools all models: None."""
    return None if value is None or str(value).strip().lower() in ("none", "") else value


def add_selection_options(parser: argparse.ArgumentParser, *, by_default: str | None, by_help: str = "",
                          metric_help: str = "", tasks: bool = True, settings: bool = True,
                          checkpoints: bool = True) -> None:
    """``--x --by --tasks --metric --shots --variant --checkpoints``: what the analysis looks at.

    ``by_default`` is the command's default for ``--by`` ("none" pools); ``by_help``/``metric_help`` say what
    the column or metric means for this command. The values become a
    :class:`~scalecheck.observations.Selection` in :func:`selection_from`.
    """
    parser.add_argument("--x", default=None, metavar="X", help=X_HELP)
    parser.add_argument("--by", default=by_default if by_default is not None else "none", metavar="COLUMN",
                        help=by_help or "also analyse per value of this model column (corpus, family); "
                                        "'none' pools all models")
    if tasks:
        parser.add_argument("--tasks", nargs="+", default=None, metavar="TASK", help="only these tasks (default: all)")
    if settings:
        parser.add_argument("--metric", default=None,
                            help=metric_help or "score metric where tasks have several (default: each task's own)")
        parser.add_argument("--shots", type=int, default=None,
                            help="the setting to use where tasks were scored at several shot counts (e.g. Pythia: 0 "
                                 "or 5; default: each task's own)")
        parser.add_argument("--variant", default=None,
                            help="the prompt variant to use where tasks have several (default: each task's own)")
    if checkpoints:
        parser.add_argument("--checkpoints", default="final", choices=("final", "all"), help=CHECKPOINTS_HELP)


def add_run_options(parser: argparse.ArgumentParser, *, output_default: str, seed_help: str = "",
                    level_help: str | None = "", not_here: dict[str, str] | None = None) -> None:
    """``--seed --level --output`` (``level_help=None``: the command has no ``--level``; say why in
    ``not_here``). ``not_here`` maps shared options the command does not take to the reason, shown in its help."""
    parser.add_argument("--seed", type=int, default=0,
                        help=seed_help or "seed for anything random (results are deterministic for a seed)")
    if level_help is not None:
        parser.add_argument("--level", type=LEVEL, default=0.9,
                            help=level_help or "coverage of the intervals (0.9: 90%%)")
    parser.add_argument("--output", "-o", default=output_default, metavar="DIR", help="folder for the results")
    if not_here:
        import textwrap

        lines = "\n".join(textwrap.fill(why, width=100, initial_indent=f"  {flag:<14} ",
                                         subsequent_indent=" " * 17) for flag, why in not_here.items())
        note = f"shared options this command does not take, and why:\n{lines}"
        parser.epilog = f"{parser.epilog}\n\n{note}" if parser.epilog else note


def selection_from(args: argparse.Namespace):
    """The :class:`~scalecheck.observations.Selection` the shared options describe (not yet validated)."""
    from ..observations import Selection

    tasks = getattr(args, "tasks", None)
    return Selection(x=getattr(args, "x", None), by=normalise_by(getattr(args, "by", None)),
                     tasks=tuple(tasks) if tasks else None, metric=getattr(args, "metric", None),
                     shots=getattr(args, "shots", None), variant=getattr(args, "variant", None),
                     checkpoints=getattr(args, "checkpoints", "final"))


ProgressFactory = Callable[[str], Callable[[int, int, str], None]]


@contextlib.contextmanager
def progress_display(console=None) -> Iterator[ProgressFactory]:
    """A rich progress display on stderr; yields ``bar(label)``, which adds a bar and returns the
    ``progress(done, total, what)`` callback that drives it. Nothing is drawn when stderr is not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    err = console if console is not None else Console(stderr=True)
    if not err.is_terminal:  # a log or a pipe: no display at all (an idle rich display may still write a newline)
        yield lambda label: (lambda done, total, what: None)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bars:
        def bar(label: str) -> Callable[[int, int, str], None]:
            job = bars.add_task(label, total=None)

            def progress(done: int, total: int, what: str) -> None:
                bars.update(job, completed=done, total=total, description=f"{label} {what}")
            return progress

        yield bar


def stderr_console():
    """The console for notes and the closing "wrote ..." line: lines are not broken when stderr is a log or a pipe
    (a path split over two lines cannot be copied)."""
    from rich.console import Console

    err = Console(stderr=True)
    return err if err.is_terminal else Console(stderr=True, soft_wrap=True)


# Through a pipe or into a log there is no window to fit: tables are printed at their natural width (one row per
# task, no column squeezed to nothing) up to this many characters.
PIPE_WIDTH = 1000


def stdout_console():
    """The console results are printed to: a terminal's own width, else (a log, a pipe) wide enough that every
    table keeps its natural width."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=PIPE_WIDTH)


def series_label(task: str, metric: str | None = None, shots=None, variant: str | None = None) -> str:
    """``task [metric] (25-shot, variant)`` for a console table, as rich markup: names from data are escaped (a
    ``[loss]`` is text, not a style), a whole shot count reads ``25-shot`` (not ``25.0-shot``), and a missing one
    (None, NaN, <NA>) is left out rather than printed as ``nan-shot``."""
    from rich.markup import escape

    parts = [str(task)]
    if metric:
        parts.append(f"[{metric}]")
    setting = []
    try:
        k = float(shots)
        if k == k:  # not NaN
            setting.append(f"{int(k) if k.is_integer() else k:g}-shot")
    except (TypeError, ValueError):
        pass
    if variant:
        setting.append(str(variant))
    if setting:
        parts.append(f"({', '.join(setting)})")
    return escape(" ".join(parts))


def describe_files(files: Any) -> str:
    """One line for what a writer wrote: its :class:`~scalecheck.tables.ReportFiles`' ``describe()`` (every
    result's ``write`` and every report writer return one), or a sentence of its own."""
    return files if isinstance(files, str) else files.describe()


def run_analysis(args: argparse.Namespace, compute: Callable, write: Callable,
                 render: Callable | None = None, *, choose_setting: bool = False) -> int:
    """Open the testbed, compute, write, print, and say what was written and how long it took.

    ``compute(testbed, selection, progress)`` returns the result (``progress(label)`` gives a callback for the
    API's ``progress=``); ``write(result, testbed, out_dir, progress)`` writes it and returns the files (a
    :class:`~scalecheck.tables.ReportFiles`, or a sentence); ``render(result, console)`` prints the summary on stdout. ``choose_setting``:
    where tasks were scored at several shot counts or variants and the options leave it open, use the one the
    evidence supports (:func:`scalecheck.observations.settings.choose_setting`) and say so on stderr.
    """
    err = stderr_console()
    t0 = time.perf_counter()
    check_output_dir(args.output)  # before the work: minutes of it must not end on an unwritable folder
    testbed = open_testbed(getattr(args, "testbed", None))
    selection = selection_from(args)
    check_metrics(testbed, selection.metric)
    if choose_setting:
        from ..observations.settings import choose_setting as choose

        choice = choose(testbed, selection)
        selection = choice.selection
        for note in choice.notes:
            err.print(note, highlight=False, markup=False)
    with progress_display(err) as progress:
        result = compute(testbed, selection, progress)
        files = write(result, testbed, Path(args.output), progress)
    if render is not None:
        render(result, stdout_console())
    err.print(f"wrote {describe_files(files)} ({time.perf_counter() - t0:.1f} s)", highlight=False)
    return 0
