"""Checklist: tasks grouped by the plan or playbook they came from, with progress ("3/7").

Overdue tasks are red. Space posts `Checklist.Toggled`; the screen writes the change and calls
`mark()` with the stored result (the widget never writes anything itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

GROUP_PREFIX = "group:"


class TaskLike(Protocol):
    """What the checklist needs of a task (csm_tui.service.plans.TaskItem fits)."""

    id: str
    title: str
    due_date: str | None
    done: bool
    overdue: bool
    group: str
    group_label: str


@dataclass
class _Row:
    id: str
    title: str
    due_date: str | None
    done: bool
    overdue: bool
    group: str


class Checklist(OptionList):
    """Tasks under their group headers; space toggles the highlighted task."""

    BINDINGS = [
        Binding("space", "toggle", "Done/undo", id="checklist.toggle"),
        Binding("j", "cursor_down", "Down", show=False, id="checklist.down"),
        Binding("k", "cursor_up", "Up", show=False, id="checklist.up"),
    ]
    DEFAULT_CSS = """
    Checklist { height: 1fr; }
    Checklist > .option-list--option-disabled { text-style: bold; }
    """

    class Toggled(Message):
        """The user asked to flip a task between done and not done."""

        def __init__(self, checklist: Checklist, task_id: str, done: bool) -> None:
            super().__init__()
            self.checklist = checklist
            self.task_id = task_id
            self.done = done  # the state the user asked for

        @property
        def control(self) -> Checklist:
            """The checklist the task is in."""
            return self.checklist

    def __init__(self, *, empty_text: str = "No open tasks.", **kwargs) -> None:
        super().__init__(**kwargs)
        self.empty_text = empty_text
        self._rows: dict[str, _Row] = {}
        self._groups: dict[str, str] = {}  # group → label

    def set_items(self, items: Sequence[TaskLike]) -> None:
        """Show these tasks (in the given order), keeping the highlighted task if still there."""
        keep = self.highlighted_option.id if self.highlighted_option else None
        self._rows = {
            t.id: _Row(t.id, t.title, t.due_date, t.done, t.overdue, t.group) for t in items
        }
        self._groups = {t.group: t.group_label for t in items}
        options: list[Option] = []
        for group, label in self._groups.items():
            options.append(
                Option(self._header(group, label), id=GROUP_PREFIX + group, disabled=True)
            )
            options += [
                Option(self._line(r), id=r.id) for r in self._rows.values() if r.group == group
            ]
        if not options:
            options = [Option(Text(self.empty_text, style="dim"), id="empty", disabled=True)]
        self.set_options(options)
        self._highlight(keep)

    def _highlight(self, task_id: str | None) -> None:
        if task_id in self._rows:
            self.highlighted = self.get_option_index(task_id)
        elif self._rows:
            self.highlighted = self.get_option_index(next(iter(self._rows)))

    def progress(self, group: str) -> tuple[int, int]:
        """(done, total) for a group."""
        rows = [r for r in self._rows.values() if r.group == group]
        return sum(r.done for r in rows), len(rows)

    def is_done(self, task_id: str) -> bool:
        """Whether the checklist shows this task as done."""
        return self._rows[task_id].done

    def mark(self, task_id: str, done: bool) -> None:
        """Show a task's stored state (after the screen saved it), updating its group's progress."""
        row = self._rows.get(task_id)
        if row is None:
            return
        row.done = done
        row.overdue = row.overdue and not done
        self.replace_option_prompt(task_id, self._line(row))
        label = self._groups[row.group]
        self.replace_option_prompt(GROUP_PREFIX + row.group, self._header(row.group, label))

    def action_toggle(self) -> None:
        """Ask to flip the highlighted task."""
        option = self.highlighted_option
        if option is None or option.id not in self._rows:
            return
        self.post_message(self.Toggled(self, option.id, not self._rows[option.id].done))

    def _header(self, group: str, label: str) -> Text:
        done, total = self.progress(group)
        return Text.assemble((label, "bold"), "  ", (f"{done}/{total}", "cyan"))

    @staticmethod
    def _line(row: _Row) -> Text:
        box = "☑" if row.done else "☐"
        title_style = "dim strike" if row.done else ("bold red" if row.overdue else "")
        due_style = "bold red" if row.overdue else "dim"
        due = f"{row.due_date or '':<10}" + ("!" if row.overdue else " ")
        return Text.assemble(f"  {box} ", (due, due_style), " ", (row.title, title_style))
