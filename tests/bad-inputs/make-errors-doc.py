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
    "checkpoints": "Run folders, checkpoints and search journals",
    "search": "Search files: samplers and pruners",
    "export": "ONNX export",
    "cli": "Command line",
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
