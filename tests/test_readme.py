"""README: exactly two commands, and CI runs the test command verbatim."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _commands():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [line.strip() for b in blocks for line in b.strip().splitlines() if line.strip()]


def test_readme_has_two_commands_and_ci_runs_the_test_command():
    cmds = _commands()
    assert len(cmds) == 2, cmds
    main, tests = cmds
    assert "examples/" in main and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci, "the test command in README.md and .ci/run differ"


def test_main_command_names_an_existing_example():
    main = _commands()[0]
    script = re.search(r"(examples/\S+\.py)", main).group(1)
    assert (ROOT / script).is_file()


def test_readme_example_runs(capsys):
    text = (ROOT / "README.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(code.strip().splitlines()) <= 12
    exec(compile(code, "README.md", "exec"), {})
    assert "(64, 64)" in capsys.readouterr().out
