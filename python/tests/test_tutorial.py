"""docs/python.md's `python` blocks, in order, as one script: the tutorial cannot rot."""
import pathlib
import re

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "python.md"


def test_the_tutorial_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 5, "the tutorial lost its code"
    scope = {}
    exec(compile("\n".join(blocks), str(DOC), "exec"), scope)  # noqa: S102 - the docs' own code
    printed = capsys.readouterr().out
    assert "refused:" in printed and "afine" not in printed
    assert "status='finished'" in printed
    assert (scope["work"] / "curves.png").stat().st_size > 1000
    assert scope["result"]["summary"]["trials"] == 4
    assert printed.count("<lamina.Check passed>") == 3
    assert scope["py_run"].status == "finished"  # a model with the page's Python layers trained
