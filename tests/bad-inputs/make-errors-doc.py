#!/usr/bin/env python3
"""Writes docs/errors.md from the bad-input corpus: python3 tests/bad-inputs/make-errors-doc.py"""
import pathlib
import yaml

here = pathlib.Path(__file__).resolve().parent
titles = {
    "model": "Model files and `--set`",
    "graph": "Graph models: layer names, inputs and merges",
    "data": "Data files",
    "plugins": "Plugins",
    "python": "Layers written in Python (`type: python`)",
    "checkpoints": "Run folders, checkpoints and search journals",
    "search": "Search files: samplers and pruners",
    "export": "ONNX export",
    "cli": "Command line",
    "outputs": "Outputs: what a command writes where it is pointed",
}


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


out = [
    "# Errors: what Lamina says about bad input",
    "",
    "Every bad input ends in one line on stderr naming the file (and line:column, key or flag)",
    "and exit status 2; a failure while running (a diverged loss, a full disk) exits 1. Nothing",
    "is left half-written: a refused input creates no run folder and changes no file. This table",
    "is generated from the cases of `tests/bad-inputs/` (`make-errors-doc.py`), each of which the",
    "suite runs (ctest `cli_bad_inputs_test`), checking the exact message, the exit status and",
    "that the case's folder is unchanged. In the cases, `good.yaml` is a one-layer model over `img`",
    "and `lab`, a tiny IDX pair; `{fixtures}` is the folder of the test plugins, `{plugins}` the built-in one and `{dir}` the",
    "case's folder.",
    "",
    "## Choices behind the messages",
    "",
    "- **Plugin faults, one policy for every kind** (layers, merges, losses, regularizers, optimizers,",
    "  schedules, callbacks, data sources, factories): an `InputError` a plugin throws is bad input,",
    "  in its own words after the place and the plugin (`data (csv from plugin 'csv'): d.csv:3: ...`);",
    "  anything else it throws (a `lamina::Error`, any `std::exception`, or something that is no",
    "  exception class) is a plugin fault naming the place, type, plugin, file and method. Both exit",
    "  2; only running out of memory exits 1. A failed run leaves no run folder.",
    "- **Resuming** continues the run as it was trained: only `--epochs` may change; `--set` and",
    "  `--seed` are refused, so the run's model.yaml always reproduces it. A checkpoint whose files",
    "  come from different epochs, or a metrics.json with fewer epochs than the checkpoint, is",
    "  refused by name (resuming would train other numbers or lose the history).",
    "- **Run folders** (`--out`) must be new, empty, or hold nothing a run writes (model.yaml,",
    "  run.json, metrics.*, iterations.csv, the checkpoint set, .live).",
    "- **Output files** (`predict --out`, `export --out`): a regular file is replaced atomically; a",
    "  symbolic link is followed and its target written so; a FIFO or character device is written",
    "  directly, never replaced; a folder, block device or socket is refused. `export` refuses an",
    "  existing file unless `--force`.",
    "- **Files read from a run or search folder** are read only when regular and within a size cap",
    "  (64 MB for YAML, JSON, CSV and journals): a FIFO or a device there is refused, never waited on.",
    "- **Plugin files** are checked before `dlopen`: ELF headers and every loaded segment within the",
    "  file (a plugin cut short is refused, not a SIGBUS), an x86-64 shared library; the folders above",
    "  the plugin folder are walked as ssh's StrictModes does (a folder others may write is refused",
    "  unless sticky); an owner that is wrong is fixed with `chown`, a mode with `chmod go-w`.",
    "- **Non-finite weights** in a checkpoint are refused by tensor name by eval, predict and export.",
    "- **A CSV's UTF-8 byte-order mark** is skipped, so `header: auto` judges the first row itself.",
    "",
]
total = 0
for stem in titles:
    cases = yaml.safe_load((here / f"{stem}.yaml").read_text())
    out += [f"## {titles[stem]}", "", "| case | input | exit | message |", "|---|---|---|---|"]
    for c in cases:
        total += 1
        command = c.get("shell") or "lamina " + c["run"]
        broken = ", ".join(c.get("files", {}) or {})
        what = f"`{cell(command)}`" + (f" (broken: {broken})" if broken else "")
        message = c.get("message") or "output contains: " + "; ".join(c.get("contains", []))
        out.append(f"| `{stem}/{c['name']}` | {what} | {c.get('status', 2)} | {cell(message)} |")
    out.append("")
out.insert(11, f"{total} cases.")
out.insert(12, "")
(here.parent.parent / "docs" / "errors.md").write_text("\n".join(out))
print(f"docs/errors.md: {total} cases")
