"""The reader's prepared selects, run on SQLite straight through the DB-API cursor.

A reader page runs two or three selects that are built once (lists.py, search, rows.py).
Through SQLAlchemy's Connection.execute each cost 70-90 µs of Python around SQLite's own work
(an execution context, parameter expansion, result metadata, per call): a list page's two took
0.27 ms, SQLite's part of it 0.09 ms. Here each select is compiled once per dialect and
per length of its expanding IN lists, and run on the request's reading connection
(blog.transactions.reading_connection) with the DB-API cursor, applying SQLAlchemy's own
bind and result processors (the same values go in, the same typed values come out:
datetimes, booleans), through blog.dbapi.execute (which keeps the
engine's cursor-execute listeners and SQLAlchemy's errors). Other databases go through
Connection.execute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.sql.selectable import CompoundSelect, Select

from blog import dbapi

MAX_PLANS = 512  # a few dozen selects times the IN-list lengths a page uses: a mistake's bound


@dataclass(frozen=True, slots=True)
class _Plan:
    """One select compiled for SQLite with its IN lists at given lengths: the SQL, where each
    positional parameter's value comes from, and the columns' result processors."""

    select: Any  # kept, so its id() is not reused for another select while the plan lives
    sql: str
    names: tuple[str, ...]  # the columns' keys, as Result.keys() gives them
    # Per "?": (name in params, index in that list or None, constant when name is None, bind)
    parameters: tuple[tuple[str | None, int | None, Any, Any], ...]
    results: tuple[tuple[int, Any], ...]  # (column index, processor) where a column has one


_plans: dict[tuple, _Plan] = {}


def run(
    connection: Connection, select: Select | CompoundSelect, params: dict[str, Any]
) -> tuple[tuple[str, ...], list[tuple]]:
    """Run a select on connection with params (lists for expanding IN parameters); return
    (its column keys, its rows as tuples of the values Connection.execute would give).

    Raises sqlalchemy.exc.DBAPIError (OperationalError etc.) as Connection.execute does.
    """
    if connection.dialect.name != "sqlite":
        result = connection.execute(select, params)
        return tuple(result.keys()), [tuple(row) for row in result]
    lengths = tuple((k, len(v)) for k, v in params.items() if isinstance(v, (list, tuple)))
    key = (id(select), lengths)
    plan = _plans.get(key)
    if plan is None or plan.select is not select:
        plan = _compile(connection, select, params)
        if len(_plans) < MAX_PLANS:
            _plans[key] = plan
    values = _values(plan, params)
    rows = dbapi.execute(connection, plan.sql, values)
    if plan.results:
        rows = [_processed(row, plan.results) for row in rows]
    return plan.names, rows


def _values(plan: _Plan, params: dict[str, Any]) -> list:
    """The positional values for plan's "?"s, from params, through the bind processors."""
    values = []
    for name, index, constant, bind in plan.parameters:
        if name is None:
            value = constant
        elif index is None:
            value = params[name]
        else:
            value = params[name][index]
        values.append(bind(value) if bind else value)
    return values


def _processed(row: tuple, results: tuple[tuple[int, Any], ...]) -> tuple:
    values = list(row)
    for index, process in results:
        values[index] = process(values[index])
    return tuple(values)


def _compile(
    connection: Connection, select: Select | CompoundSelect, params: dict[str, Any]
) -> _Plan:
    """Compile select for this connection's dialect with params' IN lists at their lengths."""
    dialect = connection.dialect
    compiled = select.compile(dialect=dialect)
    state = compiled.construct_expanded_state(params)
    origin = {
        expanded: (name, index)
        for name, names in (state.parameter_expansion or {}).items()
        for index, expanded in enumerate(names)
    }
    parameters = []
    for name in state.positiontup or ():
        bind = state.processors.get(name)
        if name in origin and origin[name][0] in params:
            parameters.append((*origin[name], None, bind))
        elif name in params:
            parameters.append((name, None, None, bind))
        else:  # a value the select carries: literal(0), the list of status.in_((...))
            parameters.append((None, None, state.parameters[name], bind))
    results = []
    for index, column in enumerate(select.selected_columns):
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            results.append((index, process))
    names = tuple(select.selected_columns.keys())
    return _Plan(select, state.statement, names, tuple(parameters), tuple(results))
