"""`make mutate`: mutation testing of the rule modules with cosmic-ray (README "Mutation
testing").

For each module in bench/mutation.toml: every mutation of its functions (the operators
listed there) is made in a copy of the project under mutants/, the module's tests run,
and a mutant counts as killed when they fail. Mutants listed in
bench/mutation-equivalents.toml are not run and not counted: they behave exactly like
the original. The figures go to bench/results/mutation-<timestamp>.json and to stdout
as the README's table.

    python -m bench.mutate                      # every module
    python -m bench.mutate grants/ledger.py     # one or more modules
    python -m bench.mutate --resume             # go on with the sessions in mutants/
    python -m bench.mutate --retry-survivors    # after adding tests: run the survivors again

An equivalent is keyed by module, function, operator and the line before and after the
mutation (its text, not its number), so it survives edits elsewhere in the file.
"""

import argparse
import ast
import datetime
import difflib
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from cosmic_ray.commands import init
from cosmic_ray.mutating import mutate_and_test, mutate_code
from cosmic_ray.plugins import get_operator
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "bench" / "mutation.toml"
EQUIVALENTS = ROOT / "bench" / "mutation-equivalents.toml"
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "mutants"
TREE = WORK / "tree"
COVERAGE = WORK / "coverage.sqlite"
OUT_OF_SCOPE = "out of scope"
EQUIVALENT = "equivalent: "


def copy_tree():
    """The project's files as they are in the work tree (committed or not), without the
    venv and build output: git lists them."""
    if TREE.exists():
        shutil.rmtree(TREE)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if not source.is_file():
            continue
        target = TREE / os.fsdecode(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def test_command(tests, *, create_db=False, plugin=None):
    return " ".join(
        [
            "nice -n 19",
            sys.executable,
            "-m pytest -x -q --no-header -o addopts='-p no:cacheprovider'",
            # Plugins the rule tests do not use: a third of each run's start-up.
            "-p no:schemathesis -p no:hypothesispytest -p no:anyio -p no:faker",
            f"-p {plugin}" if plugin else "",
            # --create-db alone would drop the database at the end: keep it for the mutants.
            "--create-db --reuse-db" if create_db else "--reuse-db",
            *map(shlex.quote, tests),
        ]
    )


def baseline(modules):
    """The selected tests on the unmutated code: they must pass. The run makes the test
    database once and records which test runs which line (bench/mutation_coverage.py)."""
    every_test = sorted({t for m in modules for t in m["tests"]})
    if COVERAGE.exists():
        COVERAGE.unlink()
    env = {
        **os.environ,
        "MUTATION_COVERAGE_FILE": str(COVERAGE),
        "MUTATION_COVERAGE_INCLUDE": ",".join(str(TREE / m["path"]) for m in modules),
    }
    print(f"Baseline: {len(every_test)} test modules on the unmutated code", flush=True)
    command = test_command(every_test, create_db=True, plugin="bench.mutation_coverage")
    if subprocess.run(command, shell=True, cwd=TREE, env=env).returncode:
        sys.exit("The tests fail without any mutation: fix them first.")


def tests_by_line(module_cfg):
    """{line: test ids of the module's selection that run it}."""
    import coverage

    data = coverage.CoverageData(basename=str(COVERAGE))
    data.read()
    selection = tuple(f"{t}::" for t in module_cfg["tests"])
    by_line = data.contexts_by_lineno(str(TREE / module_cfg["path"]))
    # Without the parameters: the test function with all of them (an id with a
    # parameter's odd characters cannot be passed back to pytest reliably).
    return {
        line: {c.split("[", 1)[0] for c in contexts if c.startswith(selection)}
        for line, contexts in by_line.items()
    }


def functions_of(source):
    """(qualified name, first line, last line) of every function, methods included; the
    innermost one containing a line is found by taking the last match."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                spans.append((name, child.lineno, child.end_lineno))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return sorted(spans, key=lambda span: (span[1], -span[2]))


def enclosing(spans, line):
    """The innermost function around `line`; "" at module level; None inside a class body
    outside its methods (field declarations, Meta: schema, not rules)."""
    found = ""
    for name, first, last in spans:
        if first <= line <= last:
            found = name
    return found


def is_bare_star(source, mutation):
    """cosmic-ray takes the `*` that makes parameters keyword-only for a multiplication;
    turned into `/` it only allows positional calls, which no caller makes: not a rule."""
    line, column = mutation.start_pos
    text = source.splitlines()[line - 1][column:]
    return mutation.operator_name.startswith("core/ReplaceBinaryOperator_Mul_") and text[1:2] in (",", ")")


def class_body_lines(source):
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def describe(source, mutation):
    """The mutated line before and after, stripped: with the function and the operator,
    the key of an equivalent."""
    operator = get_operator(mutation.operator_name)(**mutation.operator_args)
    mutated = mutate_code(source, operator, mutation.occurrence)
    before, after = source.splitlines(), (mutated or source).splitlines()
    removed, added = [], []
    for line in difflib.unified_diff(before, after, lineterm="", n=0):
        if line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:].strip())
        elif line.startswith("+") and not line.startswith("+++"):
            added.append(line[1:].strip())
    return " ".join(removed), " ".join(added)


def load_equivalents():
    if not EQUIVALENTS.exists():
        return []
    return tomllib.loads(EQUIVALENTS.read_text()).get("equivalent", [])


def is_equivalent(entry, module, key):
    return (
        entry["module"] == module
        and entry["function"] == key["function"]
        and entry["operator"] == key["operator"]
        and entry["line"] == key["line"]
        and entry["mutated"] == key["mutated"]
    )


def session_path(module):
    return WORK / (module.replace("/", "__") + ".sqlite")


def prepare(module_cfg, operators, equivalents):
    """A new session for one module: every mutation, then those out of scope or listed
    as equivalent marked skipped (their reason in the output)."""
    module = module_cfg["path"]
    source = (TREE / module).read_text()
    spans = functions_of(source)
    in_class = class_body_lines(source)
    wanted = set(module_cfg.get("functions", ()))
    db_path = session_path(module)
    if db_path.exists():
        db_path.unlink()
    with use_db(str(db_path), WorkDB.Mode.create) as db:
        os.chdir(TREE)
        init([Path(module)], db, {})
        for item in list(db.pending_work_items):
            mutation = item.mutations[0]
            line = mutation.start_pos[0]
            function = enclosing(spans, line)
            if mutation.operator_name not in operators or (function == "" and line in in_class):
                reason = OUT_OF_SCOPE
            elif is_bare_star(source, mutation):
                reason = OUT_OF_SCOPE
            elif wanted and function not in wanted:
                reason = OUT_OF_SCOPE
            else:
                before, after = describe(source, mutation)
                key = {
                    "function": function,
                    "operator": mutation.operator_name,
                    "line": before,
                    "mutated": after,
                }
                match = next((e for e in equivalents if is_equivalent(e, module, key)), None)
                if match is None:
                    continue
                reason = EQUIVALENT + match["reason"]
            db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=reason))


def forget_survivors(module_cfg, equivalents):
    """After new tests (the module itself unchanged): its survivors run again, those
    since listed as equivalent are marked so; what was killed stays killed."""
    module = module_cfg["path"]
    with sqlite3.connect(session_path(module)) as db:
        db.execute("DELETE FROM work_results WHERE test_outcome IN ('SURVIVED', 'survived')")
    source = (TREE / module).read_text()
    spans = functions_of(source)
    with use_db(str(session_path(module)), WorkDB.Mode.open) as db:
        for item in db.pending_work_items:
            mutation = item.mutations[0]
            before, after = describe(source, mutation)
            function = enclosing(spans, mutation.start_pos[0])
            key = {"function": function, "operator": mutation.operator_name, "line": before, "mutated": after}
            match = next((e for e in equivalents if is_equivalent(e, module, key)), None)
            if match is not None:
                db.set_result(
                    item.job_id,
                    WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=EQUIVALENT + match["reason"]),
                )


def run(module_cfg, timeout, tree=TREE):
    """Each pending mutant with the tests that reach its line (cosmic-ray's local
    distributor, one test command per mutant), in `tree`. A line no selected test runs
    is a survivor without a run; a mutant at module level (run at import) gets the
    module's whole selection."""
    module = module_cfg["path"]
    source = (TREE / module).read_text()
    spans = functions_of(source)
    starts = {name: (first, last) for name, first, last in spans}
    by_line = tests_by_line(module_cfg)
    with use_db(str(session_path(module)), WorkDB.Mode.open) as db:
        pending = db.pending_work_items
        print(f"{module}: {len(pending)} mutants to run", flush=True)
        os.chdir(tree)
        for number, item in enumerate(pending, 1):
            mutation = item.mutations[0]
            first, last = mutation.start_pos[0], mutation.end_pos[0]
            function = enclosing(spans, first)
            if function == "":
                tests = module_cfg["tests"]
            elif first == starts[function][0]:
                # A default value on the `def` line, run at import: the tests of the function.
                lines = range(starts[function][0], starts[function][1] + 1)
                tests = sorted(set().union(*(by_line.get(line, ()) for line in lines)))
            else:
                tests = sorted(set().union(*(by_line.get(line, ()) for line in range(first, last + 1))))
                if not tests:
                    # A statement over several lines records the line of its code, not
                    # always its first (`if not (` …): the tests of the function then.
                    lines = range(starts[function][0], starts[function][1] + 1)
                    tests = sorted(set().union(*(by_line.get(line, ()) for line in lines)))
            started = time.monotonic()
            if not tests:
                result = WorkResult(
                    worker_outcome=WorkerOutcome.NORMAL,
                    test_outcome=TestOutcome.SURVIVED,
                    output="no selected test runs this line",
                )
            else:
                result = mutate_and_test(item.mutations, test_command(tests), timeout)
            db.set_result(item.job_id, result)
            print(
                f"  {module} [{number}/{len(pending)}] line {first} {mutation.operator_name.removeprefix('core/')}: "
                f"{result.test_outcome or result.worker_outcome} ({len(tests)} tests, "
                f"{time.monotonic() - started:.0f} s)",
                flush=True,
            )


def run_in_parallel(modules, jobs):
    """The modules shared out among `jobs` workers (each a `--worker` process with its
    own copy of the tree and the test database), the most mutants first."""

    def pending(module_cfg):
        with use_db(str(session_path(module_cfg["path"])), WorkDB.Mode.open) as db:
            return len(db.pending_work_items)

    shares = [[] for _ in range(max(1, jobs))]
    loads = [0] * len(shares)
    for module_cfg in sorted(modules, key=pending, reverse=True):
        k = loads.index(min(loads))
        shares[k].append(module_cfg["path"])
        loads[k] += pending(module_cfg)
    workers = []
    for k, share in enumerate(shares):
        if not share:
            continue
        tree = WORK / f"tree-{k}"
        if tree.exists():
            shutil.rmtree(tree)
        shutil.copytree(TREE, tree, symlinks=True)
        shutil.copy2(WORK / "test-db.sqlite3", WORK / f"test-db-{k}.sqlite3")
        command = [sys.executable, "-u", "-m", "bench.mutate", "--worker", str(k), *share]
        workers.append(subprocess.Popen(command, cwd=ROOT))
    for worker in workers:
        worker.wait()
    if any(worker.returncode for worker in workers):
        sys.exit("A worker failed; its modules can go on with --resume.")


def tally(module_cfg):
    """Counts and the survivors (with their equivalent key) of one module's session."""
    module = module_cfg["path"]
    source = (TREE / module).read_text()
    spans = functions_of(source)
    counts = {"mutants": 0, "killed": 0, "timeout": 0, "survived": 0, "incompetent": 0, "equivalent": 0}
    survivors = []
    with use_db(str(session_path(module)), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            mutation = item.mutations[0]
            if result.worker_outcome == WorkerOutcome.SKIPPED or is_bare_star(source, mutation):
                if (result.output or "").startswith(EQUIVALENT):
                    counts["equivalent"] += 1
                continue
            counts["mutants"] += 1
            if result.worker_outcome != WorkerOutcome.NORMAL:
                counts["incompetent"] += 1
            elif result.test_outcome == TestOutcome.SURVIVED:
                before, after = describe(source, mutation)
                survivors.append(
                    {
                        "module": module,
                        "function": enclosing(spans, mutation.start_pos[0]),
                        "operator": mutation.operator_name,
                        "line": before,
                        "mutated": after,
                        "at_line": mutation.start_pos[0],
                    }
                )
                counts["survived"] += 1
            elif result.output == "timeout":
                counts["timeout"] += 1
            elif result.test_outcome == TestOutcome.INCOMPETENT:
                counts["incompetent"] += 1
            else:
                counts["killed"] += 1
        pending = sum(1 for _ in db.pending_work_items)
    # Equivalents are neither killed nor survivors; a mutant that breaks the import (it
    # cannot run) counts as killed, as a test run would fail on it.
    scored = counts["killed"] + counts["timeout"] + counts["incompetent"] + counts["survived"]
    killed = scored - counts["survived"]
    counts["pending"] = pending
    counts["score"] = round(100 * killed / scored, 1) if scored else None
    return counts, survivors


def table(rows):
    lines = [
        "| module | mutants | killed | timeout | survived | equivalent (not counted) | not run yet | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for module, c in rows.items():
        killed = c["killed"] + c["incompetent"]
        score = "–" if c["score"] is None else f"{c['score']:.1f} %"
        lines.append(
            f"| `{module}` | {c['mutants']} | {killed} | {c['timeout']} | {c['survived']} "
            f"| {c['equivalent']} | {c['pending']} | {score} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths of modules from bench/mutation.toml (default: all)")
    parser.add_argument("--resume", action="store_true", help="go on with the sessions already in mutants/")
    parser.add_argument(
        "--retry-survivors",
        action="store_true",
        help="copy the project again and run only the survivors of the sessions in mutants/ "
        "(after adding tests, the mutated modules unchanged)",
    )
    parser.add_argument(
        "--keep-baseline",
        action="store_true",
        help="with --retry-survivors: keep the copy and the baseline in mutants/ (the tests unchanged)",
    )
    parser.add_argument("--threshold", type=float, default=90.0, help="lowest score per module (%%)")
    parser.add_argument(
        "--jobs", type=int, default=2, help="modules mutated at once, each in its own copy (default 2)"
    )
    parser.add_argument(
        "--report", action="store_true", help="only count the sessions in mutants/ and write the results"
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    config = tomllib.loads(CONFIG.read_text())
    modules = [m for m in config["module"] if not args.modules or m["path"] in args.modules]
    unknown = set(args.modules) - {m["path"] for m in modules}
    if unknown:
        parser.error(f"not in bench/mutation.toml: {', '.join(sorted(unknown))}")
    operators = set(config["operators"])
    equivalents = load_equivalents()
    os.environ["TEST_DATABASE_NAME"] = str(WORK / "test-db.sqlite3")
    os.environ.pop("DATABASE_URL", None)

    if args.worker is not None:
        # One of --jobs: its own copy of the tree and of the test database.
        tree = WORK / f"tree-{args.worker}"
        os.environ["TEST_DATABASE_NAME"] = str(WORK / f"test-db-{args.worker}.sqlite3")
        for module_cfg in modules:
            run(module_cfg, config["timeout"], tree)
        return

    started = datetime.datetime.now(datetime.UTC)
    if args.resume or args.report or args.keep_baseline:
        # An interrupted run may have left a mutated module behind.
        for module_cfg in modules:
            shutil.copy2(ROOT / module_cfg["path"], TREE / module_cfg["path"])
    if args.retry_survivors:
        if not args.keep_baseline:
            copy_tree()
            baseline(modules)
        for module_cfg in modules:
            forget_survivors(module_cfg, equivalents)
    elif not (args.resume or args.report):
        copy_tree()
        baseline(modules)
        for module_cfg in modules:
            prepare(module_cfg, operators, equivalents)
    if not args.report:
        run_in_parallel(modules, args.jobs)

    rows, survivors = {}, []
    for module_cfg in modules:
        counts, found = tally(module_cfg)
        rows[module_cfg["path"]] = counts
        survivors.extend(found)
    finished = datetime.datetime.now(datetime.UTC)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"mutation-{started:%Y%m%dT%H%M%SZ}.json"
    out.write_text(
        json.dumps(
            {
                "tool": "cosmic-ray",
                "started": started.isoformat(timespec="seconds"),
                "minutes": round((finished - started).total_seconds() / 60, 1),
                "threshold": args.threshold,
                "modules": rows,
                "survivors": survivors,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(table(rows))
    for s in survivors:
        print(
            f"survived: {s['module']}:{s['at_line']} {s['function']} {s['operator']}\n  - {s['line']}\n  + {s['mutated']}"
        )
    print(f"Results: {out.relative_to(ROOT)}")
    low = [m for m, c in rows.items() if c["score"] is not None and c["score"] < args.threshold]
    if low:
        sys.exit(f"Below {args.threshold} %: {', '.join(low)}")


if __name__ == "__main__":
    main()
