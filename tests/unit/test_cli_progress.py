"""#20: "progress bars on long work (imports, replays, settlements)" — for a person at a terminal only: on stderr,
only when stderr is a TTY, never with `--json` (a script reads stdout, and its logs should not fill with bars)."""

import io

import pytest

from revgov import cli_support


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def on_terminal(monkeypatch) -> Terminal:
    """stderr becomes a terminal, inside the test (pytest's capture puts its own stderr back when a test starts)."""
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    return screen


def test_a_bar_counts_the_items_on_a_terminals_stderr_and_nothing_reaches_stdout(monkeypatch, capsys):
    terminal = on_terminal(monkeypatch)
    seen = list(cli_support.progress(["a", "b", "c"], "Replaying 3 events"))
    assert seen == ["a", "b", "c"]
    drawn = terminal.getvalue()
    assert "Replaying 3 events" in drawn and "3/3" in drawn, drawn
    assert capsys.readouterr().out == ""


def test_with_json_there_is_no_bar_even_on_a_terminal(monkeypatch, capsys):
    terminal = on_terminal(monkeypatch)
    assert list(cli_support.progress([1, 2], "Replaying 2 events", as_json=True)) == [1, 2]
    with cli_support.working("Importing 2 items…", as_json=True):
        pass
    assert terminal.getvalue() == "" and capsys.readouterr().out == ""


def test_when_stderr_is_not_a_terminal_there_is_no_bar(capsys, monkeypatch):
    piped = io.StringIO()  # isatty() is False: a log file, a pipe, CI
    monkeypatch.setattr("sys.stderr", piped)
    assert list(cli_support.progress(range(3), "Replaying 3 events")) == [0, 1, 2]
    with cli_support.counting("Indexing contracts", 2) as step:
        step()
        step(1, "Indexing contoso")
    with cli_support.working("Importing 5 catalog rows…"):
        pass
    assert piped.getvalue() == "" and capsys.readouterr().out == ""


def test_a_step_that_cannot_be_counted_shows_a_spinner_on_a_terminal(monkeypatch, capsys):
    terminal = on_terminal(monkeypatch)
    with cli_support.working("Importing 5 catalog rows into northwind…"):
        pass
    assert "Importing 5 catalog rows into northwind…" in terminal.getvalue()
    assert capsys.readouterr().out == ""


def test_the_bar_of_an_interrupted_run_goes_away_with_it(monkeypatch):
    on_terminal(monkeypatch)
    """A failure inside the loop ends the bar and reaches the caller (run_safely turns it into one line)."""
    with pytest.raises(RuntimeError):
        for _ in cli_support.progress([1, 2, 3], "Replaying 3 events"):
            raise RuntimeError("store unreachable")
