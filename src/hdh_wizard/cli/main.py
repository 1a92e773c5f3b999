"""The `hdh-wizard` command: the TUI on a project, and the same work headless.

Heavy libraries (Textual, numpy, tifffile) are imported only by the commands that use them, so
that `--help` and `status` answer at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NoReturn

from hdh_wizard import __version__
from hdh_wizard.cli.argparse_words import argparse_in
from hdh_wizard.core.enums import Role
from hdh_wizard.core.release import Person
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Catalogue, detect_lang, load_catalogue

COMMANDS = (
    "status",
    "demo",
    "restore-backup",
    "check",
    "convert",
    "risk",
    "publish",
    "keys",
    "transfer",
    "prepare",
    "dictionary",
    "dossier",
)
DEMO_FOLDER = "hdh-wizard-demo"


class _Parser(argparse.ArgumentParser):
    """argparse with its own words taken from the catalogue, and exit code 2 on misuse."""

    def __init__(self, cat: Catalogue, **kwargs: object) -> None:
        super().__init__(add_help=False, **kwargs)  # type: ignore[arg-type]
        self.cat = cat
        self._positionals.title = cat.t("cli.arguments")
        self._optionals.title = cat.t("cli.options")
        self.add_argument("-h", "--help", action="help", help=cat.t("cli.help.help"))

    def format_usage(self) -> str:
        formatter = self._get_formatter()
        formatter.add_usage(
            self.usage,
            self._actions,
            self._mutually_exclusive_groups,
            prefix=self.cat.t("cli.usage") + " ",
        )
        return formatter.format_help()

    def format_help(self) -> str:
        # argparse's own usage (English) may wrap over several lines: drop it up to its blank line.
        return self.format_usage() + "\n" + super().format_help().split("\n\n", 1)[1]

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {self.cat.t('cli.usage_error')} {message}\n")


def _top_parser(cat: Catalogue) -> _Parser:
    parser = _Parser(
        cat,
        prog="hdh-wizard",
        description=cat.t("cli.description"),
        epilog=cat.t("cli.epilog"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"hdh-wizard {__version__}",
        help=cat.t("cli.help.version"),
    )
    parser.add_argument("--lang", choices=["fr", "en"], help=cat.t("cli.help.lang"))
    return parser


def _command_parser(cat: Catalogue, command: str) -> _Parser:
    parser = _Parser(cat, prog=f"hdh-wizard {command}", description=cat.t(f"cli.{command}.about"))
    parser.add_argument("--lang", choices=["fr", "en"], help=cat.t("cli.help.lang"))
    if command == "status":
        parser.add_argument("dir", nargs="?", default=".", help=cat.t("cli.help.dir"))
        parser.add_argument("--json", action="store_true", help=cat.t("cli.status.json"))
    elif command == "demo":
        parser.add_argument("dir", nargs="?", default=DEMO_FOLDER, help=cat.t("cli.demo.dir"))
        parser.add_argument("--no-open", action="store_true", help=cat.t("cli.demo.no_open"))
    elif command == "restore-backup":
        parser.add_argument("dir", help=cat.t("cli.help.dir"))
    elif command == "dictionary":
        parser.add_argument("dir", nargs="?", default=".", help=cat.t("cli.help.dir"))
        parser.add_argument(
            "--from", dest="pasted", metavar="FICHIER", help=cat.t("cli.dictionary.from")
        )
    elif command == "dossier":
        parser.add_argument("dir", nargs="?", default=".", help=cat.t("cli.help.dir"))
    elif command == "publish":
        parser.add_argument("dir", nargs="?", default=".", help=cat.t("cli.help.dir"))
        parser.add_argument("--yes", action="store_true", help=cat.t("cli.publish.yes"))
        parser.add_argument("--staff", metavar="NOM", type=_name(cat), help=cat.t("cli.help.staff"))
    elif command == "transfer":
        parser.add_argument("dir", nargs="?", default=".", help=cat.t("cli.help.dir"))
        parser.add_argument("--staff", metavar="NOM", type=_name(cat), help=cat.t("cli.help.staff"))
        parser.add_argument(
            "--part-size", metavar="MIB", type=_mebibytes(cat), help=cat.t("cli.transfer.part_size")
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=4,
            choices=range(1, 33),
            metavar="N",
            help=cat.t("cli.transfer.workers"),
        )
    elif command == "prepare":
        parser.add_argument("dir", nargs="?", default=".", help=cat.t("cli.help.dir"))
        parser.add_argument("--split", metavar="TABLE", help=cat.t("cli.prepare.split"))
        parser.add_argument("--column", metavar="COLONNE", help=cat.t("cli.prepare.column"))
        parser.add_argument("--group-below", metavar="N", help=cat.t("cli.prepare.group_below"))
        parser.add_argument("--sample", metavar="TABLE", help=cat.t("cli.prepare.sample"))
        parser.add_argument("--size", metavar="N", help=cat.t("cli.prepare.size"))
        parser.add_argument("--fraction", metavar="PART", help=cat.t("cli.prepare.fraction"))
        parser.add_argument("--seed", metavar="N", help=cat.t("cli.prepare.seed"))
        parser.add_argument("--stratify", action="store_true", help=cat.t("cli.prepare.stratify"))
        parser.add_argument("--slides", metavar="DOSSIER", help=cat.t("cli.prepare.slides"))
        parser.add_argument("--mapping", metavar="TABLE", help=cat.t("cli.prepare.mapping"))
        parser.add_argument(
            "--file-column", metavar="COLONNE", help=cat.t("cli.prepare.file_column")
        )
        parser.add_argument(
            "--value-column", metavar="COLONNE", help=cat.t("cli.prepare.value_column")
        )
        parser.add_argument("--commit", action="store_true", help=cat.t("cli.prepare.commit"))
    elif command in ("check", "convert"):
        parser.add_argument("paths", nargs="+", help=cat.t("cli.check.paths"))
        parser.add_argument("--follow-links", action="store_true", help=cat.t("cli.check.follow"))
        if command == "check":
            parser.add_argument("--json", action="store_true", help=cat.t("cli.check.json"))
        else:
            parser.add_argument("--to", default="publish", help=cat.t("cli.convert.to"))
            parser.add_argument(
                "--encoding", metavar="ENCODAGE", help=cat.t("cli.convert.encoding")
            )
    elif command == "risk":
        parser.add_argument("paths", nargs="+", help=cat.t("cli.risk.paths"))
        parser.add_argument("--qi", help=cat.t("cli.risk.qi"))
        parser.add_argument("--sensitive", help=cat.t("cli.risk.sensitive"))
        parser.add_argument("--threshold", help=cat.t("cli.risk.threshold"))
        parser.add_argument("--rule", action="append", default=[], help=cat.t("cli.risk.rule"))
        parser.add_argument("--json", action="store_true", help=cat.t("cli.risk.json"))
        parser.add_argument("--report", metavar="DIR", help=cat.t("cli.risk.report"))
        parser.add_argument("--search", action="store_true", help=cat.t("cli.risk.search"))
        parser.add_argument(
            "--max-suppression", metavar="PART", help=cat.t("cli.risk.max_suppression")
        )
        parser.add_argument(
            "--hierarchy",
            action="append",
            default=[],
            metavar="COLONNE=FICHIER",
            help=cat.t("cli.risk.hierarchy"),
        )
        parser.add_argument("--population", metavar="N", help=cat.t("cli.risk.population"))
        parser.add_argument("--choices", metavar="FICHIER", help=cat.t("cli.risk.choices"))
    elif command == "keys":
        parser.add_argument(
            "action",
            nargs="?",
            choices=["list", "forget"],
            default="list",
            help=cat.t("cli.keys.action"),
        )
        parser.add_argument("url", nargs="?", help=cat.t("cli.keys.url"))
        parser.add_argument("--all", action="store_true", help=cat.t("cli.keys.all"))
    return parser


def _name(cat: Catalogue) -> Callable[[str], str]:
    """A person's name as given on the command line: one line of printable text, not blank, no
    longer than the state file holds (the loader's own rule, `state_file.check_name`); runs of
    spaces are joined into one."""

    def parse(text: str) -> str:
        from hdh_wizard.core.state_file import UnsavableValueError, check_name

        try:
            # As typed: a line break or a terminal code is refused, never turned into a space.
            check_name(text, "--staff")
        except UnsavableValueError as error:
            if error.key == "state.unsaved_forbidden_character":
                raise argparse.ArgumentTypeError(
                    cat.t(
                        "cli.help.staff_control",
                        character=error.params["character"],
                        value=error.params["value"],
                    )
                ) from None
        name = " ".join(text.split())
        try:
            return check_name(name, "--staff")
        except UnsavableValueError as error:
            if error.key == "state.unsaved_value_too_long":
                raise argparse.ArgumentTypeError(
                    cat.t(
                        "cli.help.staff_too_long",
                        length=error.params["length"],
                        max=error.params["max"],
                    )
                ) from None
            raise argparse.ArgumentTypeError(cat.t("cli.help.staff_empty")) from None

    return parse


def _mebibytes(cat: Catalogue) -> Callable[[str], int]:
    """`--part-size`: a whole number of MiB, at least S3's 5, as bytes."""

    def parse(text: str) -> int:
        if not text.strip().isdigit() or int(text) < 5:
            raise argparse.ArgumentTypeError(cat.t("cli.transfer.bad_part_size"))
        return int(text) * 1024 * 1024

    return parse


def _lang_from(argv: Sequence[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _command_from(argv: Sequence[str]) -> str | None:
    """The first word that is not an option nor the value of `--lang`."""
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif arg == "--lang":
            skip_next = True
        elif not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # A Windows console or a file in cp1252: replace what it cannot show rather than crash.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args_list = list(sys.argv[1:] if argv is None else argv)
    cat = load_catalogue(detect_lang(_lang_from(args_list)))
    command = _command_from(args_list)
    try:
        if command in COMMANDS:
            rest = list(args_list)
            rest.remove(command)
            with argparse_in(cat):
                args = _command_parser(cat, command).parse_args(rest)
            return _run(cat, command, args)
        parser = _top_parser(cat)
        parser.add_argument("dir", nargs="?", default=".", help=cat.t("cli.help.dir"))
        with argparse_in(cat):
            args = parser.parse_args(args_list)
        return _run(cat, "open", args)
    except HdhWizardError as error:
        print(f"hdh-wizard: {error.message(cat)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`hdh-wizard check … | head`): not an error worth a report.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"hdh-wizard: {cat.t('cli.interrupted')}", file=sys.stderr)
        return 130
    except Exception as error:
        # A bug, not the user's doing: the details (no secret) in a report, say where, exit.
        return report_crash(cat, error)


def report_crash(cat: Catalogue, error: BaseException, secrets: Iterable[str] = ()) -> int:
    """Write the crash report of `error`, tell the user where it is, and give the exit code."""
    from hdh_wizard.crash import write_crash_report

    return tell_crash(cat, write_crash_report(error, secrets))


def tell_crash(cat: Catalogue, report: Path | None) -> int:
    """Say that a crash happened and where its report is; the exit code after a crash."""
    from hdh_wizard.crash import CRASH_EXIT_CODE

    print(f"hdh-wizard: {cat.t('cli.crash', report=report or '-')}", file=sys.stderr)
    return CRASH_EXIT_CODE


def _staff(name: str | None) -> Person | None:
    """`--staff NAME`: an HDH team member runs the command, recorded as the steps' author."""
    return Person(name, Role.HDH_STAFF) if name else None


def _run(cat: Catalogue, command: str, args: argparse.Namespace) -> int:
    if command in ("check", "convert"):
        from hdh_wizard.cli.check import run_check, run_convert

        paths = [Path(p).expanduser() for p in args.paths]
        if command == "check":
            return run_check(cat, paths, as_json=args.json, follow_links=args.follow_links)
        return run_convert(
            cat,
            paths,
            Path(args.to).expanduser(),
            follow_links=args.follow_links,
            encoding=args.encoding,
        )
    if command == "risk":
        from hdh_wizard.cli.risk import run_risk

        return run_risk(
            cat,
            [Path(p).expanduser() for p in args.paths],
            quasi=args.qi,
            sensitive=args.sensitive,
            threshold=args.threshold,
            rules=args.rule,
            as_json=args.json,
            report_dir=Path(args.report).expanduser() if args.report else None,
            search_lattice=args.search,
            max_suppression=args.max_suppression,
            hierarchies=args.hierarchy,
            population=args.population,
            choices_path=Path(args.choices).expanduser() if args.choices else None,
        )
    if command == "keys":
        from hdh_wizard.cli.keys import run_keys

        return run_keys(cat, args.action, args.url, forget_all=args.all)
    folder = Path(args.dir).expanduser()
    if command == "status":
        from hdh_wizard.cli.status import print_status

        return print_status(cat, folder, as_json=args.json)
    if command == "publish":
        from hdh_wizard.cli.publish import run_publish

        return run_publish(cat, folder, yes=args.yes, actor=_staff(args.staff))
    if command == "transfer":
        from hdh_wizard.cli.transfer import run_transfer

        return run_transfer(
            cat, folder, part_size=args.part_size, workers=args.workers, actor=_staff(args.staff)
        )
    if command == "prepare":
        from hdh_wizard.cli.prepare import PrepareRequest, run_prepare

        request = PrepareRequest(
            split=args.split,
            column=args.column,
            group_below=args.group_below,
            sample=args.sample,
            size=args.size,
            fraction=args.fraction,
            seed=args.seed,
            stratify=args.stratify,
            slides=args.slides,
            mapping=args.mapping,
            file_column=args.file_column,
            value_column=args.value_column,
            commit=args.commit,
        )
        return run_prepare(cat, folder, request)
    if command == "dictionary":
        from hdh_wizard.cli.dictionary import run_dictionary

        pasted = Path(args.pasted).expanduser() if args.pasted else None
        return run_dictionary(cat, folder, pasted)
    if command == "dossier":
        from hdh_wizard.cli.dossier import run_dossier

        return run_dossier(cat, folder)
    if command == "restore-backup":
        from hdh_wizard.cli.restore import restore

        return restore(cat, folder)
    if command == "demo":
        from hdh_wizard.cli.demo import ensure_demo_project

        ensure_demo_project(cat, folder, announce=args.no_open)
        if args.no_open:
            return 0
    from hdh_wizard.cli.tui import run_tui

    return run_tui(cat, folder)


if __name__ == "__main__":
    raise SystemExit(main())
