"""``segkit <verb>``: each verb reads its inputs through the contract, calls its workflow (the Python
equivalent, named first in ``segkit VERB --help``, which the notebooks call too) and writes the result.

Flags mean one thing on every verb: ``--mapping`` (``--members-mapping``, ...) a column-mapping YAML,
``--settings`` a settings YAML; settings flags default to "from the settings file". Old names
(``--config``, ``--members-config``, ``generate --members``) still work for one release, with a note.

Exit codes: 0 done; 1 a pipeline step failed (``segkit run``: see the failed attempt's manifest);
2 an expected failure (bad input, settings, paths, arguments), said in one line on stderr;
3 a bug in segkit, said in one line with the exception and where to report it; 130 interrupted (Ctrl-C) and
143 stopped (SIGTERM), each one line, with the verb's temporary and half-written files removed.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import pandas as pd

from . import __version__
from .data import load_table
from .data.parse import parse_day
from .io import TABLE_SUFFIXES, write_table
from .messages import LANGUAGES
from .privacy import mask_urls_in, urls_in

REPORT_BUGS = "report it to the segkit maintainers with this command line"


def _date(text: str) -> pd.Timestamp:
    try:
        return parse_day(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _number(text: str, kind: type, what: str):
    """``text`` as a ``kind`` (int or float), or argparse's one-line error naming ``what`` was expected."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} expected, got {text!r}") from None


def _positive(text: str) -> int:
    value = _number(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _seed(text: str) -> int:
    value = _number(text, int, "a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _probability(text: str) -> float:
    value = _number(text, float, "a number")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be a probability from 0 to 1")
    return value


def _share(text: str) -> float:
    value = _number(text, float, "a number")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("must be a share above 0 and below 1")
    return value


def _rejects_path(out: Path, table: str) -> Path:
    return out.with_name(f"{out.stem}.{table}_rejects.csv")


def _table_output(path: str | Path) -> Path:
    """An output table, refused before any work: ``.csv`` or ``.parquet``, not a folder, not under a file."""
    path = _not_a_url(path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise ValueError(f"{path}: unsupported output type {path.suffix!r}; use .csv or .parquet")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name ending in .csv or .parquet")
    _refuse_file_parents(path)
    return path


def _not_a_url(path: str | Path) -> Path:
    """An output path, refused when it is a URL (``postgresql://u:pw@db/x.csv`` made a local folder of that name,
    and printed the password): outputs are files."""
    if urls_in(str(path)):
        raise ValueError(f"{mask_urls_in(str(path))}: an output is a file or a folder, not a URL")
    return Path(path)


def _folder_output(path: str | Path) -> Path:
    """An output folder, refused before any work if it, or a folder above it, is a file."""
    path = _not_a_url(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file, not a folder")
    if not path.exists() and path.suffix.lower() in TABLE_SUFFIXES:  # half the files were written, then it failed
        raise ValueError(f"--out {path}: this verb writes a folder of files; give a folder, not a file name")
    _refuse_file_parents(path)
    return path


def _refuse_file_parents(path: Path) -> None:
    blocking = next((parent for parent in path.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise ValueError(f"{path}: cannot write under {blocking}, which is a file")


def _member_outputs(args) -> Path:
    """``--out`` (and ``--rejects``) of a verb that loads transactions, checked before anything is loaded."""
    if args.rejects:
        _table_output(args.rejects)
    return _table_output(args.out)


# The rejects of the inputs a verb has loaded, written once the verb has succeeded: a verb that fails leaves its
# --out as an earlier run left it, not that run's outputs beside this one's rejects.
_REJECTS_TO_WRITE: ContextVar[list | None] = ContextVar("rejects_to_write", default=None)


def _load(path: str, table: str, mapping: str | None, as_of, out: Path, rejects: str | None):
    """Load one input through the contract, report on stderr, and write its rejects when the verb succeeds."""
    result = load_table(path, table, mapping, as_of)
    rejects_path = Path(rejects) if rejects else _rejects_path(out, table)
    pending = _REJECTS_TO_WRITE.get()
    if pending is None:
        result.write_rejects(rejects_path)
    else:  # the rejects alone: the table loaded is let go as the verb runs (gigabytes on 1M households)
        pending.append((result.rejects, rejects_path))
    print(result.report, file=sys.stderr)
    print(f"  rejects: {rejects_path}", file=sys.stderr)
    return result


@contextmanager
def _transactions_and_members(args, out: Path) -> Iterator[tuple[Path, pd.DataFrame | None]]:
    """The transactions (checked against --as-of) and, if given, the members of a per-member verb.

    The checked transactions are handed to the workflow as a Parquet file in a temporary folder (removed
    afterwards), in member order, which the engine reads a range of members at a time: the loaded table is not
    held in memory while the workflow runs (on 10M households it is about 5 GB). The members are handed over
    with their text compact (``LoadResult.rows``): as Python strings, names, phones and ids of 10M households
    take 2.8 GB, most of which no per-member verb reads."""
    from .engine import write_by_member

    checked = _load(args.transactions, "transactions", args.mapping, args.as_of, out, args.rejects).to_arrow()
    with tempfile.TemporaryDirectory(prefix="segkit-") as folder:
        transactions = Path(folder) / "transactions.parquet"
        write_by_member(checked, transactions)
        del checked  # before the members are loaded: on 10M households each table takes gigabytes
        members = _load(args.members, "members", args.members_mapping, None, out, None).rows if args.members else None
        yield transactions, members


def _written(result, paths) -> None:
    print(result)
    print("\n".join(f"  {path}" for path in paths))


def cmd_generate(args) -> None:
    """Python: ``segkit.generate(kind, n_members, seed, as_of).write(out)``; for a survey
    ``segkit.synth.survey.write_survey(generate_survey(n_benefits, n_respondents, seed), out)``."""
    from .synth import generate

    _folder_output(args.out)
    if args.world == "survey":
        from .synth.survey import generate_survey, write_survey

        paths = write_survey(generate_survey(args.benefits, args.respondents, seed=args.seed), args.out)
        print(f"survey of {args.benefits} benefits and {args.respondents} respondents (seed {args.seed})")
        for name, path in paths.items():
            print(f"  {name}: {path}")
        return
    options = {"history_days": args.history_days} if args.history_days else {}
    world = generate(args.world, args.n_members, seed=args.seed, as_of=args.as_of, **options)
    paths = world.write(args.out, fmt=args.format)
    print(world)
    for name, path in paths.items():
        print(f"  {name}: {path}")


def cmd_simulate(args) -> None:
    """Python: ``segkit.synth.loop.simulate(out, n_members, days, start, seed, policy, win_back, annoyance,
    control_share, window_days, history_days, settings)``."""
    from .synth.loop import simulate

    _folder_output(args.out)
    result = simulate(
        args.out,
        args.n_members,
        args.days,
        args.start,
        args.seed,
        args.policy,
        args.win_back,
        args.annoyance,
        args.control_share,
        args.window_days,
        args.history_days,
        args.settings,
    )
    _written(result, result.files)


def cmd_load(args) -> None:
    """Python: ``segkit.load_transactions(path, mapping, as_of)`` (``segkit.load_members``, ``load_advisors``);
    ``.write(out)`` writes the table and its rejects."""
    out = _member_outputs(args)
    if args.file is None and args.mapping is None:
        raise ValueError("give --file, or a --mapping whose source names a database (duckdb: or url_env:)")
    result = _load(args.file, args.table, args.mapping, args.as_of, out, args.rejects)
    write_table(result.table, out)
    print(f"{args.table}: {out}")


def cmd_features(args) -> None:
    """Python: ``segkit.member_features(transactions, as_of, members, backend).write(out)``."""
    from .workflows import member_features

    out = _member_outputs(args)
    with _transactions_and_members(args, out) as (transactions, members):
        features = member_features(transactions, args.as_of, members=members, backend=args.backend)
        _written(features, features.write(out))


def cmd_segment(args) -> None:
    """Python: ``segkit.segment_members(transactions, as_of, members, settings).write(out)``."""
    from .segment import SegmentationSettings, segment_members
    from .settings import resolve_settings

    out = _member_outputs(args)
    settings = resolve_settings(SegmentationSettings, args.settings)
    with _transactions_and_members(args, out) as (transactions, members):
        segmentation = segment_members(transactions, args.as_of, members, settings)
        _written(segmentation, segmentation.write(out))


def cmd_alerts(args) -> None:
    """Python: ``segkit.churn_alerts(transactions, as_of, members, settings).write(out)``."""
    from .churn import AlertSettings, churn_alerts
    from .settings import resolve_settings

    out = _member_outputs(args)
    settings = resolve_settings(AlertSettings, args.settings)
    with _transactions_and_members(args, out) as (transactions, members):
        run = churn_alerts(transactions, args.as_of, members, settings)
        print(run.model)
        _written(run, run.write(out))
    print(f"{len(run.alerts):,} overdue alerts: {out}")


def cmd_clv(args) -> None:
    """Python: ``segkit.customer_value(transactions, calibration_end, holdout_end, settings).write(out)``;
    what cannot be computed is a note on stderr."""
    from .clv import ValueSettings, customer_value
    from .settings import resolve_settings

    out = _member_outputs(args)
    settings = resolve_settings(
        ValueSettings,
        args.settings,
        model=args.model,
        unit=args.unit,
        horizon=args.horizon,
        periods=args.periods,
        discount_rate=args.discount_rate,
        k_max=args.k_max,
    )
    transactions = _load(
        args.transactions, "transactions", args.mapping, args.holdout_end or args.as_of, out, args.rejects
    ).table
    value = customer_value(transactions, args.as_of, args.holdout_end, settings)
    print(value.purchases)
    print(value.purchases.summary().round(4).to_string())
    if value.spend is not None:
        print(value.spend)
    for note in value.notes:
        print(f"segkit clv: note: {note}", file=sys.stderr)
    _written(value, value.write(out))


def cmd_backtest(args) -> None:
    """Python: ``segkit.backtest_churn(transactions, as_of_dates, members, truth=segkit.evaluation.read_truth(path)
    | holdout_end=day, settings, horizon_days, methods).write(out)``."""
    from .churn import AlertSettings
    from .evaluation import backtest_churn, read_truth
    from .settings import resolve_settings

    out = _member_outputs(args)
    settings = resolve_settings(AlertSettings, args.settings)
    transactions = _load(args.transactions, "transactions", args.mapping, args.holdout_end, out, args.rejects).table
    members = _load(args.members, "members", args.members_mapping, None, out, None).table if args.members else None
    truth = read_truth(args.truth) if args.truth else None
    backtest = backtest_churn(
        transactions,
        args.as_of,
        members,
        truth=truth,
        holdout_end=args.holdout_end,
        settings=settings,
        horizon_days=args.horizon_days,
        methods=args.methods,
        label=Path(args.transactions).stem,
    )
    with pd.option_context("display.width", 160):
        print(backtest.table.drop(columns="data").round(3).to_string(index=False))
    _written(backtest, backtest.write(out))


def _members_and_advisors(args, out: Path):
    """The members (required), advisors (optional) and the members file's columns not in the contract, of a
    call-center verb; rejects go beside the output folder, which belongs to the export alone."""
    members = _load(args.members, "members", args.members_mapping, None, out, None)
    advisors = _load(args.advisors, "advisors", args.advisors_mapping, None, out, None).table if args.advisors else None
    return members.table, advisors, members.report.ignored_columns


def cmd_export(args) -> None:
    """Python: ``segkit.export_calls(alerts, members, as_of, ledger, out, campaign, advisors, settings)``."""
    from .callcenter import ContactSettings, Ledger, export_calls
    from .settings import resolve_settings

    out = Path(args.out).resolve()
    settings = resolve_settings(ContactSettings, args.settings, language=args.language)
    ledger = Ledger(args.ledger)
    members, advisors, unmapped = _members_and_advisors(args, out)
    export = export_calls(
        args.alerts,
        members,
        args.as_of,
        ledger,
        out,
        args.campaign,
        advisors,
        settings,
        replace=args.replace,
        unmapped_columns=unmapped,
        context=args.context or (),
    )
    _written(export, export.files)


def cmd_care(args) -> None:
    """Python: ``segkit.care_calls(members, as_of, ledger, out, vip, campaign, advisors, settings)``."""
    from .callcenter import ContactSettings, Ledger, care_calls
    from .settings import resolve_settings

    out = Path(args.out).resolve()
    settings = resolve_settings(ContactSettings, args.settings, language=args.language)
    ledger = Ledger(args.ledger)
    members, advisors, unmapped = _members_and_advisors(args, out)
    export = care_calls(
        members,
        args.as_of,
        ledger,
        out,
        args.vip,
        args.campaign,
        advisors,
        settings,
        replace=args.replace,
        unmapped_columns=unmapped,
        context=args.context or (),
    )
    _written(export, export.files)


def cmd_outcomes(args) -> None:
    """Python: ``segkit.callcenter.import_outcomes(path, Ledger(url))`` and ``retention_summary(ledger)``."""
    from .callcenter import Ledger, import_outcomes, retention_summary

    if args.summary:
        _table_output(args.summary)  # before the import: an exit 2 after it would read as nothing imported
    ledger = Ledger(args.ledger)
    imported = import_outcomes(args.file, ledger)
    summary = retention_summary(ledger)
    print(
        f"{imported.added:,} outcomes imported; {imported.already:,} already in the ledger, "
        f"{imported.repeated:,} repeated row(s) of the file ignored; {ledger}"
    )
    print(summary.to_string(index=False) if len(summary) else "retention summary: no call listed in the ledger yet")
    if args.summary:
        write_table(summary, args.summary)
        print(f"retention summary: {args.summary}")


def cmd_effect(args) -> None:
    """Python: ``segkit.campaign_effect(Ledger(url), load_transactions(path), as_of, window_days, segments,
    language=language, worthwhile_uplift=worthwhile_uplift).write(out)``."""
    from .callcenter import Ledger, campaign_effect
    from .callcenter.effect import listed_contacts

    out = _folder_output(args.out)
    ledger = Ledger(args.ledger)
    calls = ledger.calls()
    with warnings.catch_warnings():  # what it has to say, campaign_effect says once
        warnings.simplefilter("ignore")
        listed_contacts(calls, args.as_of, args.window_days)  # no control group: refused before the long load
    transactions = _load(args.transactions, "transactions", args.mapping, args.as_of, out / "effect.csv", None)
    effect = campaign_effect(
        calls,
        transactions,
        args.as_of,
        args.window_days,
        args.segments,
        ledger.outcomes(),
        language=args.language,
        worthwhile_uplift=args.worthwhile_uplift,
    )
    _written(effect, effect.write(out))
    with pd.option_context("display.width", 160):
        print(effect.summary().round(3).to_string(index=False))
    print("\n".join(effect.sentences() + effect.advice_sentences()))


def cmd_ledger(args) -> None:
    """Python: ``segkit.callcenter.Ledger(url, create=True)`` (init), ``.runs()``, ``.remove_run(name, as_of)``,
    ``.adopt_phone_key(load_members(path).table.set_index("member_id")["phone"])``."""
    from .callcenter import Ledger

    ledger = Ledger(args.ledger, create=args.action == "init")
    if args.action == "remove-run":
        removed = ledger.remove_run(args.run, args.as_of)
        print(f"removed run {args.run!r} as of {args.as_of.date()} and its {removed:,} contact(s)")
    elif args.action == "adopt-key":
        members = load_table(args.members, "members", args.members_mapping)
        print(members.report, file=sys.stderr)
        if "phone" not in members.table:
            raise ValueError(f"{args.members}: no phone column (map it with --members-mapping)")
        remade, removed = ledger.adopt_phone_key(members.table.set_index("member_id")["phone"])
        print(
            f"{remade:,} phone fingerprint(s) re-made with this key; {removed:,} of numbers no longer on file "
            "removed (they held no one back)"
        )
    runs = ledger.runs()
    print(ledger)
    if len(runs):
        print(runs.to_string(index=False))


def cmd_run(args) -> None:
    """Python: ``segkit.run_pipeline(path, date, runs, inputs=overrides)``."""
    from .jobs import run_pipeline

    overrides = {}
    for item in args.input or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--input expects NAME=PATH, got {mask_urls_in(item)!r}")
        overrides[name] = value
    # no --date: today; an empty one (a failed $(date ...) in cron) is refused, not taken for today
    date = pd.Timestamp.today().strftime("%Y-%m-%d") if args.date is None else args.date
    runs = _folder_output(args.out)
    run = run_pipeline(args.pipeline, str(parse_day(date).date()), runs, inputs=overrides)
    print(run)
    print(f"run folder: {run.folder} (manifest.json, executed notebooks, HTML reports, step outputs)")


def cmd_survey(args) -> None:
    """Python: ``segkit.rank_benefits(read_survey(...), settings).write(out)``."""
    from .plots import save_charts, survey_charts
    from .settings import resolve_settings
    from .survey import SurveySettings, rank_benefits, read_survey

    out = _folder_output(args.out)
    settings = resolve_settings(SurveySettings, args.settings, budget=args.budget)
    data = read_survey(
        args.screening,
        args.costs,
        args.ranking,
        args.constant_sum,
        args.respondents,
        total_points=settings.total_points,
    )
    result = rank_benefits(data, settings)
    _written(result, [*result.write(out), *save_charts(survey_charts(result), out / "charts")])
    print(result.summary().round(3).to_string(index=False))


def cmd_assign(args) -> None:
    """Python: ``segkit.plan_books(transactions, members, advisors, as_of, settings, alerts).write(out)``."""
    from .advisors import AssignmentSettings, plan_books
    from .plots import book_charts, save_charts
    from .settings import resolve_settings

    out = _folder_output(args.out)
    settings = resolve_settings(AssignmentSettings, args.settings)
    # the small file typed by hand first: a refusal of it comes before anything is written
    advisors = _load(args.advisors, "advisors", args.advisors_mapping, None, out / "assignments.csv", None).table
    members = _load(args.members, "members", args.members_mapping, None, out / "assignments.csv", None).table
    transactions = _load(
        args.transactions, "transactions", args.transactions_mapping, args.as_of, out / "assignments.csv", None
    ).table
    plan = plan_books(transactions, members, advisors, args.as_of, settings, alerts=args.alerts)
    _written(plan, [*plan.write(out), *save_charts(book_charts(plan), out / "charts")])
    print(plan.summary().to_string(index=False))


def _add_call_center_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", required=True, help="members file: name, phone, tier, advisor_id, do_not_call")
    parser.add_argument("--as-of", type=_date, required=True)
    parser.add_argument(
        "--ledger",
        help="contact ledger: an SQLite file path or a SQLAlchemy URL without password (default: $SEGKIT_LEDGER_URL)",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="output folder of the export's own, replaced whole: "
        "call_list.csv, call_list.xlsx, held_back.csv (members and "
        "advisors rejects beside it)",
    )
    parser.add_argument("--advisors", help="advisors file: team, active and daily_calls route the calls")
    parser.add_argument("--advisors-mapping", help="column-mapping YAML of the advisors file")
    _option(
        parser,
        "--settings",
        "--config",
        help="contact settings YAML: window_days, max_per_30_days, advisor_daily_calls, vip, ...",
    )
    _option(parser, "--members-mapping", "--members-config", help="column-mapping YAML of the members file")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace this run's recorded list if it differs (refused once outcomes exist)",
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        help="language of the call sheet call_list.xlsx (default: the settings', else zh-CN); "
        "call_list.csv keeps its English columns",
    )
    parser.add_argument(
        "--context",
        action="append",
        metavar="PATH",
        help="a member table whose last purchase, segment and action the call sheet shows "
        "(rfm.csv, member_rhythms.csv); may be repeated",
    )


def _add_member_inputs(parser: argparse.ArgumentParser, out_help: str, members: bool = True) -> None:
    """The inputs every per-member verb reads: transactions (+ mapping), members (unless the verb has no use for
    them), as-of date, output."""
    parser.add_argument("--transactions", required=True, help="transactions, CSV or Parquet")
    parser.add_argument("--as-of", type=_date, required=True)
    parser.add_argument("--out", required=True, help=out_help)
    _option(parser, "--mapping", "--config", help="column-mapping YAML of the transactions file")
    if members:
        parser.add_argument("--members", help="members file: members without purchases get a row too")
        _option(parser, "--members-mapping", "--members-config", help="column-mapping YAML of the members file")
    parser.add_argument("--rejects", help="transactions rejects file (default: beside --out)")


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2, like every other expected failure."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {mask_urls_in(message)} (see {self.prog} --help)\n")


class _Renamed(argparse.Action):
    """An option's old name, kept for one release: it sets the new one and says so in one line on stderr."""

    def __init__(self, option_strings, dest, new: str, **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        print(
            f"{parser.prog}: note: {option_string} is deprecated, use {self.new} (the old name goes in the next "
            "release)",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def _option(parser: argparse.ArgumentParser, name: str, old: str | None = None, **kwargs) -> None:
    """``name`` and, when given, its deprecated ``old`` name (hidden from the help)."""
    action = parser.add_argument(name, **kwargs)
    if old:
        parser.add_argument(
            old, dest=action.dest, action=_Renamed, new=name, type=kwargs.get("type"), help=argparse.SUPPRESS
        )


def _verb(verbs, name: str, command, summary: str, **options) -> argparse.ArgumentParser:
    """A verb whose ``--help`` opens with what it does (``summary``) and its Python equivalent (the
    ``cmd_*`` docstring)."""
    description = f"{summary[0].upper()}{summary[1:]}.\n\n{' '.join((command.__doc__ or '').split())}"
    parser = verbs.add_parser(
        name, help=summary, description=description, formatter_class=argparse.RawDescriptionHelpFormatter, **options
    )
    parser.set_defaults(func=command)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="segkit", description="Member segmentation and churn toolkit.")
    parser.add_argument("--version", action="version", version=f"segkit {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    gen = _verb(
        verbs,
        "generate",
        cmd_generate,
        "generate a synthetic world (transactions, members, advisors, truth) or a benefit survey",
    )
    gen.add_argument("world", choices=["gas", "supplements", "survey"])
    gen.add_argument("--benefits", type=_positive, default=12, help="survey: candidate benefits (default 12)")
    gen.add_argument("--respondents", type=_positive, default=200, help="survey: stage-3 respondents (default 200)")
    _option(gen, "--n-members", "--members", type=_positive, default=10_000, help="number of members (default 10000)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--as-of", type=_date, default=_date("2026-03-31"), help="last day of the history (YYYY-MM-DD)")
    gen.add_argument("--history-days", type=_positive, default=None, help="days of history before --as-of")
    gen.add_argument("--format", choices=["csv", "parquet"], default="csv")
    gen.add_argument("--out", required=True, help="output folder")

    sim = _verb(
        verbs,
        "simulate",
        cmd_simulate,
        "a closed loop with a known effect of a call: a policy's overdue "
        "calls through the real call-list export on a gas world, day by "
        "day (policy.json, effect.csv, ledger.sqlite)",
    )
    sim.add_argument("world", choices=["gas"])
    sim.add_argument("--n-members", type=_positive, default=8000, help="households (default 8000)")
    sim.add_argument("--days", type=_positive, default=90, help="days simulated from --start (default 90)")
    sim.add_argument("--start", type=_date, default=_date("2026-04-01"), help="first simulated day (YYYY-MM-DD)")
    sim.add_argument("--history-days", type=_positive, default=730, help="days of history before --start")
    sim.add_argument("--seed", type=_seed, default=0)
    sim.add_argument(
        "--policy",
        choices=["segkit", "overdue-30", "median-1.5"],
        default="segkit",
        help="who is listed: segkit's overdue alerts, 30 days since the last refill, or 1.5 x the "
        "household's own median gap (default segkit)",
    )
    sim.add_argument(
        "--win-back",
        type=_probability,
        default=0.3,
        help="probability that a call brings back a household that had switched (default 0.3)",
    )
    sim.add_argument(
        "--annoyance",
        type=_probability,
        default=0.05,
        help="probability that a call drives away a loyal household that is merely late (default 0.05)",
    )
    sim.add_argument(
        "--control-share",
        type=float,
        default=0.10,
        help="share of each day's list held out as control, not called (default 0.10)",
    )
    sim.add_argument(
        "--window-days",
        type=_positive,
        default=30,
        help="a listed household bought if it bought within so many days (default 30)",
    )
    sim.add_argument("--settings", help="alert settings YAML of the segkit policy (p_active_below, long_gone_days)")
    sim.add_argument(
        "--out",
        required=True,
        help="output folder: ledger.sqlite, transactions.csv, effect.csv, call_truth.csv, policy.json",
    )

    load = _verb(
        verbs, "load", cmd_load, "check an export against the data contract; write the canonical table and rejects"
    )
    load.add_argument("table", choices=["transactions", "members", "advisors"])
    load.add_argument(
        "--file",
        help="CSV (any of UTF-8, UTF-8 BOM, GBK), Parquet or a DuckDB database; without it, the database that the "
        "mapping's source names (duckdb: or url_env:)",
    )
    _option(load, "--mapping", "--config", help="column-mapping YAML: source columns to canonical names")
    load.add_argument("--as-of", type=_date, help="reject transactions dated after this day")
    load.add_argument("--out", required=True, help="canonical table, .csv or .parquet")
    load.add_argument("--rejects", help="rejects file (default: beside --out)")

    feat = _verb(verbs, "features", cmd_features, "per-member features as of a date")
    _add_member_inputs(feat, out_help="output, .csv or .parquet")
    feat.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb")

    segment = _verb(
        verbs,
        "segment",
        cmd_segment,
        "RFM scores, segments, VIPs, lifecycle stages and tiers as of a "
        "date, with tier changes, stage transitions, cohorts and sales",
        aliases=["rfm"],
    )
    _add_member_inputs(
        segment,
        out_help="one row per member (rfm.csv), .csv or .parquet; the segment summary, "
        "tier changes, stage transitions, cohorts and sales split beside it",
    )
    segment.add_argument(
        "--settings", help="segmentation settings YAML: rfm, vip, lifecycle, tiers, snapshot_months (defaults in code)"
    )

    alerts = _verb(verbs, "alerts", cmd_alerts, "overdue alerts: members past their own purchase rhythm (alerts.csv)")
    _add_member_inputs(
        alerts,
        out_help="alerts, .csv or .parquet: one row per alerted member (every member's "
        "rhythm and status beside it: OUT.member_rhythms.csv)",
    )
    alerts.add_argument(
        "--settings", help="alert settings YAML: p_active_below, long_gone_days, words, covariates, vip"
    )

    clv = _verb(
        verbs,
        "clv",
        cmd_clv,
        "buy-till-you-die models: P(alive), expected purchases, spend and CLV per customer, with the holdout check",
    )
    # no --members: the models value customers from their first purchase (one who never bought has no row), and
    # a members file taken and left unused said otherwise
    _add_member_inputs(
        clv,
        out_help="one row per customer, .csv or .parquet (with --holdout-end, the holdout check beside it)",
        members=False,
    )
    clv.add_argument(
        "--holdout-end",
        type=_date,
        help="forecast the purchases from --as-of to this day and set them beside what happened",
    )
    clv.add_argument(
        "--settings", help="customer-value settings YAML: model, unit, horizon, periods, discount_rate, k_max"
    )
    clv.add_argument("--model", choices=["bgnbd", "paretonbd", "mbgcnbd"], help="purchases model (settings; bgnbd)")
    clv.add_argument("--unit", choices=["D", "W", "M"], help="time unit of the model (settings; default weeks)")
    clv.add_argument(
        "--horizon", type=float, help="forecast horizon in units (settings; default one year: 365 D, 52 W, 12 M)"
    )
    clv.add_argument("--periods", type=_positive, help="discounting periods within the horizon (settings; 12)")
    clv.add_argument("--discount-rate", type=float, help="discount rate per period (settings; 0.01)")
    clv.add_argument("--k-max", type=_positive, help="MBG/CNBD-k: the largest regularity tried (settings; 12)")

    back = _verb(
        verbs,
        "backtest",
        cmd_backtest,
        "every churn method on the same dates and members, scored "
        "against a generated world's truth or a holdout period",
    )
    back.add_argument("--transactions", required=True, help="transactions, CSV or Parquet (past the as-of dates)")
    back.add_argument("--as-of", type=_date, nargs="+", required=True, help="one or more as-of dates")
    back.add_argument("--out", required=True, help="the table, .csv or .parquet")
    truth = back.add_mutually_exclusive_group(required=True)
    truth.add_argument("--truth", help="a generated world's truth.csv (who switched, and when)")
    truth.add_argument("--holdout-end", type=_date, help="churned = no purchase between the as-of date and this day")
    back.add_argument("--members", help="members file (household_size sharpens the interval model)")
    _option(back, "--mapping", "--config", help="column-mapping YAML of the transactions file")
    _option(back, "--members-mapping", "--members-config", help="column-mapping YAML of the members file")
    back.add_argument("--settings", help="alert settings YAML (threshold, long_gone_days, ...)")
    back.add_argument(
        "--horizon-days", type=_positive, default=60, help="propensity label: no purchase in so many days"
    )
    back.add_argument(
        "--methods",
        nargs="+",
        metavar="METHOD",
        help="some of: 'fixed 30 days', '1.5 x own median gap', 'interval model', oracle, BG/NBD, "
        "MBG/CNBD-k, propensity (default: every one the truth allows)",
    )
    back.add_argument("--rejects", help="transactions rejects file (default: beside --out)")

    export = _verb(verbs, "export", cmd_export, "call list from alerts: VIPs first, paced against the contact ledger")
    export.add_argument("--alerts", required=True, help="alerts.csv from segkit alerts")
    _add_call_center_inputs(export)
    export.add_argument("--campaign", default="churn", help="campaign name (default churn)")

    care = _verb(verbs, "care", cmd_care, "care list: birthday and holiday greetings, paced against the contact ledger")
    _add_call_center_inputs(care)
    _option(
        care,
        "--vip",
        "--segments",
        help="member_id and vip of every member (segkit segment's rfm.csv, the "
        "alerts' member_rhythms.csv): VIPs get holiday greetings",
    )
    care.add_argument("--campaign", default="care", help="run name in the ledger (default care)")

    assign = _verb(
        verbs,
        "assign",
        cmd_assign,
        "advisor books: grade-matched assignment by min-cost flow, hand-over lists, advisor summary",
    )
    assign.add_argument("--members", required=True, help="members file: advisor_id (current), wants_new_advisor, tier")
    assign.add_argument("--advisors", required=True, help="advisors: level, team, capacity_min, capacity_max, active")
    assign.add_argument("--transactions", required=True, help="transactions, CSV or Parquet (for grades and stages)")
    assign.add_argument("--as-of", type=_date, required=True)
    assign.add_argument(
        "--out", required=True, help="output folder: assignments.csv, handover.csv, advisor_summary.csv, charts/"
    )
    _option(assign, "--settings", "--config", help="assignment settings YAML: weights, teams, grade shares, capacities")
    assign.add_argument("--alerts", help="alerts.csv: open alerts go into the hand-over notes")
    _option(
        assign, "--transactions-mapping", "--transactions-config", help="column-mapping YAML of the transactions file"
    )
    _option(assign, "--members-mapping", "--members-config", help="column-mapping YAML of the members file")
    assign.add_argument("--advisors-mapping", help="column-mapping YAML of the advisors file")

    run = _verb(
        verbs,
        "run",
        cmd_run,
        "run a pipeline (pipelines/*.yaml) into runs/<job>/<date>/ with a manifest and HTML reports",
    )
    run.add_argument("pipeline", help="pipeline YAML")
    run.add_argument("--date", help="the run's date, YYYY-MM-DD (default: today)")
    run.add_argument("--out", default="runs", help="runs folder (default: runs)")
    run.add_argument("--input", action="append", metavar="NAME=PATH", help="override one of the pipeline's inputs")

    survey = _verb(
        verbs,
        "survey",
        cmd_survey,
        "premium-benefit survey: screening, cost check, Plackett-Luce and constant-sum ranking (ranking.csv)",
    )
    survey.add_argument("--screening", required=True, help="respondent_id, benefit, liking (1-5)")
    survey.add_argument("--costs", required=True, help="benefit, direct_cost, delivery_cost (per member per year)")
    survey.add_argument("--budget", type=float, help="budget per member per year (settings: budget)")
    survey.add_argument("--ranking", required=True, help="respondent_id, benefit, rank (1 = best; partial allowed)")
    survey.add_argument("--constant-sum", required=True, help="respondent_id, benefit, points")
    survey.add_argument("--respondents", help="respondent_id, tier (or segment): rankings per tier")
    survey.add_argument(
        "--out",
        required=True,
        help="output folder: ranking.csv, ranking_by_tier.csv, "
        "survey_problems.csv, respondent_consistency.csv, charts/",
    )
    _option(
        survey,
        "--settings",
        "--config",
        help="survey settings YAML: drop rules, budget, budget share, bootstrap, weights",
    )

    outcomes = _verb(
        verbs, "outcomes", cmd_outcomes, "import call outcomes into the ledger; print the retention summary"
    )
    outcomes.add_argument(
        "--file",
        required=True,
        help="the call sheet call_list.xlsx with the outcome columns filled in (every sheet, either "
        "language), or an outcomes CSV: alert_id, outcome, outcome_date, note",
    )
    outcomes.add_argument("--ledger", help="contact ledger (default: $SEGKIT_LEDGER_URL)")
    outcomes.add_argument("--summary", help="write the retention summary here (.csv or .parquet)")

    effect = _verb(
        verbs,
        "effect",
        cmd_effect,
        "did the calls work: purchases of the called members after their "
        "list day against the control group held out of the same lists",
    )
    effect.add_argument("--ledger", help="contact ledger (default: $SEGKIT_LEDGER_URL)")
    effect.add_argument("--transactions", required=True, help="transactions, CSV or Parquet")
    effect.add_argument(
        "--as-of", type=_date, required=True, help="count the contacts whose window has ended by this day"
    )
    effect.add_argument(
        "--window-days",
        type=_positive,
        default=30,
        help="a listed member bought if they bought within so many days after the list day (default 30)",
    )
    effect.add_argument(
        "--segments",
        help="member_id and segment of every member (segkit segment's rfm.csv): the effect per segment too",
    )
    effect.add_argument("--mapping", help="column-mapping YAML of the transactions file")
    effect.add_argument("--language", choices=LANGUAGES, help="language of the report (default zh-CN)")
    effect.add_argument(
        "--worthwhile-uplift",
        type=_share,
        default=0.02,
        help="the smallest uplift worth its calls (default 0.02: one extra buyer per 50 calls); "
        "groups of calls shown to add less are named in the advice",
    )
    effect.add_argument(
        "--out",
        required=True,
        help="output folder: effect.csv, advice.csv, effect.html (the report), charts/uplift.html",
    )

    ledger = _verb(
        verbs, "ledger", cmd_ledger, "the contact ledger: make one, list its runs, remove a run recorded by mistake"
    )
    actions = ledger.add_subparsers(dest="action", required=True, metavar="ACTION")
    init = actions.add_parser(
        "init",
        help="make a new, empty ledger (every other verb refuses a ledger that does "
        "not exist: a mistyped path must not pace against no history)",
    )
    show = actions.add_parser("show", help="every recorded run: name, day, calls listed, outcomes")
    remove = actions.add_parser(
        "remove-run", help="remove a run and its calls (a mistyped --as-of); refused once outcomes exist for it"
    )
    remove.add_argument("--run", required=True, help="the run's name (the campaign: churn, care, ...)")
    remove.add_argument("--as-of", type=_date, required=True, help="the run's day, YYYY-MM-DD")
    adopt = actions.add_parser(
        "adopt-key",
        help="re-make the phone fingerprints of a ledger from an older segkit "
        "with this key ($SEGKIT_PHONE_KEY), from the phones on file",
    )
    adopt.add_argument("--members", required=True, help="members file with the phones on file")
    _option(adopt, "--members-mapping", "--members-config", help="column-mapping YAML of the members file")
    for action in (init, show, remove, adopt):
        action.add_argument("--ledger", help="contact ledger (default: $SEGKIT_LEDGER_URL)")
        action.set_defaults(func=cmd_ledger)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one verb; every failure is one line on stderr and an exit code (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings(), _stopped_cleanly(args.verb):  # a warning is one line too, naming the verb
            warnings.showwarning = lambda message, *_, **__: print(
                f"segkit {args.verb}: warning: {_one_line(message)}", file=sys.stderr
            )
            pending = _REJECTS_TO_WRITE.set([])
            try:
                args.func(args)
                for rejects, path in _REJECTS_TO_WRITE.get():
                    write_table(rejects, path)
            finally:
                _REJECTS_TO_WRITE.reset(pending)
    except KeyboardInterrupt:  # Ctrl-C: unwound as SIGTERM is (files removed), one line, not a traceback
        print(f"segkit {args.verb}: interrupted; its temporary and half-written files are removed", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - each kind of failure gets its exit code and one line
        from .jobs import JobFailed

        if isinstance(error, JobFailed):
            print(f"segkit {args.verb}: {_one_line(error)}", file=sys.stderr)
            return 1
        if isinstance(error, MemoryError):
            print(
                f"segkit {args.verb}: error: out of memory: this run needs more memory than the machine has free "
                "(a size given too large? docs/benchmarks.md says what 1M and 10M households need)",
                file=sys.stderr,
            )
            return 2
        if _out_of_engine_memory(error):
            from .engine import DUCKDB_MEMORY_LIMIT

            print(
                f"segkit {args.verb}: error: the engine (DuckDB) needed more than its memory limit of "
                f"{os.environ.get('SEGKIT_DUCKDB_MEMORY_LIMIT', DUCKDB_MEMORY_LIMIT)}: set "
                "SEGKIT_DUCKDB_MEMORY_LIMIT higher and run it again (docs/benchmarks.md: what 1M and 10M "
                "households need)",
                file=sys.stderr,
            )
            return 2
        if _expected(error):
            print(f"segkit {args.verb}: error: {_one_line(error)}", file=sys.stderr)
            return 2
        command = mask_urls_in(shlex.join(["segkit", *argv]))
        print(
            f"segkit {args.verb}: bug: unexpected {type(error).__name__}: {_one_line(error)}; {REPORT_BUGS}: {command}",
            file=sys.stderr,
        )
        return 3
    return 0


@contextmanager
def _stopped_cleanly(verb: str) -> Iterator[None]:
    """SIGTERM (``kill``, a scheduler's timeout) unwinds the verb as an interrupt does, so that its temporary
    files (a UTF-8 copy of an export, names and phones included) and half-written outputs are removed: the
    default handler ended the process where it stood. Exit 143, one line."""

    def stop(signum, frame):
        print(f"segkit {verb}: stopped by SIGTERM; its temporary and half-written files are removed", file=sys.stderr)
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _out_of_engine_memory(error: Exception) -> bool:
    import duckdb

    return isinstance(error, duckdb.OutOfMemoryException)


def _expected(error: Exception) -> bool:
    """A failure of the input, settings or environment rather than of segkit: bad values (``ValueError``,
    ``ContractError``, ``UnicodeError``), files (``OSError``), YAML, an unknown encoding (``LookupError``;
    a ``KeyError`` or ``IndexError`` is a bug), the database."""
    import yaml
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(error, (KeyError, IndexError)):
        return False
    return isinstance(error, (ValueError, OSError, LookupError, yaml.YAMLError, SQLAlchemyError))


def _one_line(error: Exception) -> str:
    """The error's message on one line (a list after a colon joined by "; "), with every URL masked."""
    text = str(error).strip() or type(error).__name__
    text = re.sub(r"\s*\n\s*", "; ", re.sub(r":\s*\n\s*", ": ", text))
    return mask_urls_in(text)


if __name__ == "__main__":
    sys.exit(main())
