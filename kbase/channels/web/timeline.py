"""The deadline timeline as plain SVG built here: one row per responsible department, each deadline a mark on a
time axis, past deadlines in a distinct colour and shape, today's line and a legend. All text is escaped."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Container
from html import escape

from ingest.model import Task
from kbase.channels.web.ledger import deadline_wording

WIDTH, LABEL_WIDTH, RIGHT_PAD = 960, 230, 30
TOP, ROW_HEIGHT, BOTTOM = 70, 34, 40
OVERDUE_COLOUR, UPCOMING_COLOUR, DONE_COLOUR = "#b3261e", "#0b57a4", "#1b6e37"  # each above 4.5:1 on white
FONT = "font-family=\"'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei',sans-serif\""


def responsible(task: Task) -> list[str]:
    """The units answerable for a task: its leads, else those sharing it, else those implementing it."""
    return task.lead or task.shared or task.implement


def _rows(tasks: list[Task], today: dt.date, done: Container) -> dict[str, dict[dt.date, list[tuple[str, bool]]]]:
    """department -> date -> (description, marked done) of the deadlines falling then."""
    rows: dict[str, dict[dt.date, list[tuple[str, bool]]]] = defaultdict(lambda: defaultdict(list))
    for task in tasks:
        for deadline in (d for d in task.deadlines if d.kind == "deadline"):
            is_done = (task.doc, task.ref, deadline.date) in done
            state = "已完成" if is_done else deadline_wording(deadline, today)
            for unit in responsible(task):
                rows[unit][deadline.date].append((f"{task.ref} {task.title}：{deadline.text}（{state}）", is_done))
    return dict(sorted(rows.items(), key=lambda item: (min(item[1]), item[0])))


def _text(x: float, y: float, content: str, anchor: str = "start", size: int = 13, fill: str = "#1f1f1f",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}" '
            f'font-weight="{weight}">{escape(content)}</text>')


def _mark(x: float, y: float, overdue: bool, count: int, tooltip: str, done: bool = False) -> str:
    """A square for a passed deadline, a circle for a coming one, a diamond when every deadline there is done: the
    difference holds without colour too."""
    colour = DONE_COLOUR if done else OVERDUE_COLOUR if overdue else UPCOMING_COLOUR
    if done:
        shape = f'<path class="done" d="M{x:.1f} {y - 10:.1f}l10 10l-10 10l-10 -10z" fill="{colour}"/>'
    elif overdue:
        shape = f'<rect x="{x - 8:.1f}" y="{y - 8:.1f}" width="16" height="16" fill="{colour}"/>'
    else:
        shape = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8.5" fill="{colour}"/>'
    label = _text(x, y + 4.5, str(count), "middle", 11, "#ffffff", "bold") if count > 1 else ""
    return f"<g><title>{escape(tooltip)}</title>{shape}{label}</g>"


def _today_line(x1: float, y1: float, x2: float, y2: float) -> str:
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#1f1f1f" stroke-width="2" '
            'stroke-dasharray="4 3"/>')


def timeline_svg(tasks: list[Task], today: dt.date, done: Container = frozenset()) -> str:
    """`done` holds the (doc, ref, date) of deadlines marked done."""
    rows = _rows(tasks, today, done)
    height = TOP + max(len(rows), 1) * ROW_HEIGHT + BOTTOM
    dates = [date for marks in rows.values() for date in marks] + [today]
    start, end = dt.date(min(dates).year, 1, 1), dt.date(max(dates).year + 1, 1, 1)
    span = (end - start).days

    def x_of(date: dt.date) -> float:
        return LABEL_WIDTH + (WIDTH - LABEL_WIDTH - RIGHT_PAD) * (date - start).days / span

    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
           f'height="{height}" role="img" aria-labelledby="timeline-title" {FONT}>')
    parts = [svg, '<title id="timeline-title">各部门任务期限时间线</title>',
             f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
             _text(10, 24, "各部门任务期限", size=16, weight="bold")]
    legend_x = WIDTH - 400
    parts += [_mark(legend_x - 90, 19, False, 1, "已完成", done=True), _text(legend_x - 76, 24, "已完成"),
              _mark(legend_x, 19, True, 1, "期限已过"), _text(legend_x + 14, 24, "期限已过"),
              _mark(legend_x + 100, 19, False, 1, "尚未到期"), _text(legend_x + 114, 24, "尚未到期"),
              _today_line(legend_x + 200, 19, legend_x + 222, 19), _text(legend_x + 228, 24, "今天"),
              _text(legend_x + 270, 24, "数字=同日期限数", size=12, fill="#4a4a4a")]
    axis_bottom = TOP + max(len(rows), 1) * ROW_HEIGHT
    parts += [f'<rect x="0" y="{TOP + n * ROW_HEIGHT}" width="{WIDTH}" height="{ROW_HEIGHT}" fill="#f3f6fa"/>'
              for n in range(0, len(rows), 2)]
    for year in range(start.year, end.year + 1):  # a solid line at each new year, a faint one at mid-year
        for month in (1, 7) if year < end.year else (1,):
            x = x_of(dt.date(year, month, 1))
            parts.append(f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{axis_bottom}" '
                         f'stroke="{"#9e9e9e" if month == 1 else "#dddddd"}" stroke-width="1"/>')
        if year < end.year:  # the year's name over its span, so a mark at 12-31 reads as that year's end
            parts.append(_text(x_of(dt.date(year, 7, 1)), TOP - 14, f"{year}年", "middle", 12, "#4a4a4a"))
    if not rows:
        parts.append(_text(WIDTH / 2, TOP + ROW_HEIGHT / 2 + 5, "没有符合条件的期限", "middle", 14, "#4a4a4a"))
    for number, (unit, marks) in enumerate(rows.items()):
        y = TOP + number * ROW_HEIGHT + ROW_HEIGHT / 2
        parts.append(_text(LABEL_WIDTH - 12, y + 4.5, unit, "end"))
        for date, descriptions in sorted(marks.items()):
            overdue = date < today
            tooltip = f"{unit} · {date.isoformat()}\n" + "\n".join(text for text, _ in descriptions)
            all_done = all(is_done for _, is_done in descriptions)
            parts.append(_mark(x_of(date), y, overdue, len(descriptions), tooltip, all_done))
    today_x = x_of(today)
    parts += [_today_line(today_x, TOP - 8, today_x, axis_bottom + 6),
              _text(today_x, axis_bottom + 22, f"今天 {today.isoformat()}", "middle", 12, weight="bold"), "</svg>"]
    return "\n".join(parts)
