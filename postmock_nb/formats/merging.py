"""Merging one collection into another without losing anything silently.

Rules (each outcome lands in the :class:`MergeReport`):

- An incoming example whose **id** is already in the current collection **replaces** it, in
  place (it keeps its position, so tie-breaking by order does not change).
- Any other incoming example is **added** to the current item it belongs to: the item with
  the same id, else the one with the same folder and name; an incoming item with no such
  match is appended whole (its request, scripts and description come along).
- When an added example has the **same name as an existing example of that item** but a
  different id, both are kept and the incoming one is **renamed** ``"NAME (2)"`` (``(3)``…
  if that is taken too).
- Collection **variables** merge by name; the incoming value wins. New and changed ones
  are reported.

The current collection's name, id and description are kept, and so are the request,
scripts and description of an item both collections have: only examples and variables
move across.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from postmock_nb.core.model import Collection, Example, Item
from postmock_nb.core.text import plural


@dataclass(frozen=True)
class MergedExample:
    """One example the merge added or replaced, and where it lives now."""

    id: str
    name: str
    item: str
    folder: tuple[str, ...] = ()
    line: str = ""

    @property
    def where(self) -> str:
        return " > ".join(self.folder + (self.item,))


@dataclass(frozen=True)
class RenamedExample:
    """An incoming example renamed because its item already had an example of that name."""

    id: str
    old_name: str
    new_name: str
    item: str
    folder: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return " > ".join(self.folder + (self.item,))


@dataclass(frozen=True)
class VariableChange:
    """A collection variable the merge set; ``old`` is None for a new one."""

    name: str
    old: str | None
    new: str


@dataclass(frozen=True)
class MergeReport:
    """What :func:`merge` did, entry by entry."""

    current_name: str = ""
    incoming_name: str = ""
    added: tuple[MergedExample, ...] = ()
    replaced: tuple[MergedExample, ...] = ()
    renamed: tuple[RenamedExample, ...] = ()
    variables: tuple[VariableChange, ...] = ()
    items_added: tuple[str, ...] = ()

    @property
    def added_ids(self) -> tuple[str, ...]:
        return tuple(entry.id for entry in self.added)

    @property
    def replaced_ids(self) -> tuple[str, ...]:
        return tuple(entry.id for entry in self.replaced)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.variables or self.items_added)

    def describe(self) -> str:
        """A few lines a person can read: counts first, then every entry."""
        head = (f"Merged {self.incoming_name!r} into {self.current_name!r}: "
                f"{plural(len(self.added), 'example')} added, {len(self.replaced)} replaced, "
                f"{len(self.renamed)} renamed, {plural(len(self.variables), 'variable')} set.")
        lines = [head]
        lines += [f"  + request  [{where}] (new in this collection)" for where in self.items_added]
        lines += [f"  + added    {e.line or e.name}  [{e.where}] id={e.id}" for e in self.added]
        lines += [f"  ~ replaced {e.line or e.name}  [{e.where}] id={e.id}" for e in self.replaced]
        lines += [f"  ! renamed  {r.old_name!r} -> {r.new_name!r} in [{r.where}] id={r.id}: "
                  f"that request already had an example named {r.old_name!r}" for r in self.renamed]
        for change in self.variables:
            if change.old is None:
                lines.append(f"  = variable {change.name} = {change.new!r} (new)")
            else:
                lines.append(f"  = variable {change.name} = {change.new!r} (was {change.old!r})")
        if not self.changed:
            lines.append("  nothing changed")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


def merge(current: Collection, incoming: Collection) -> tuple[Collection, MergeReport]:
    """``current`` with ``incoming``'s examples and variables merged in, and what happened."""
    items: list[Item] = list(current.items)
    examples: list[list[Example]] = [list(item.examples) for item in items]
    home = {example.id: (index, position) for index, item in enumerate(items)
            for position, example in enumerate(item.examples)}
    existing_names = [{example.name for example in item.examples} for item in items]
    places = _Places(items)
    added: list[MergedExample] = []
    replaced: list[MergedExample] = []
    renamed: list[RenamedExample] = []
    items_added: list[str] = []

    for incoming_item in incoming.items:
        target = places.of(incoming_item)
        if target is None:
            items.append(replace(incoming_item, examples=()))
            examples.append([])
            existing_names.append(set())
            target = len(items) - 1
            places.add(items[target], target)
            items_added.append(" > ".join(incoming_item.folder + (incoming_item.name,)))
        for example in incoming_item.examples:
            if example.id in home:
                index, position = home[example.id]
                examples[index][position] = example
                replaced.append(_entry(example, items[index]))
                continue
            name = example.name
            if name in existing_names[target]:
                taken = existing_names[target] | {e.name for e in examples[target]}
                new_name = _free_name(name, taken)
                renamed.append(RenamedExample(example.id, name, new_name, items[target].name, items[target].folder))
                example = replace(example, name=new_name)
            examples[target].append(example)
            home[example.id] = (target, len(examples[target]) - 1)
            added.append(_entry(example, items[target]))

    variables = dict(current.variables)
    changes = [VariableChange(name, variables.get(name), value) for name, value in incoming.variables
               if variables.get(name) != value]
    variables.update(dict(incoming.variables))

    merged_items = tuple(replace(item, examples=tuple(found)) for item, found in zip(items, examples, strict=False))
    merged = replace(current, items=merged_items, variables=tuple(variables.items()))
    report = MergeReport(current_name=current.name, incoming_name=incoming.name, added=tuple(added),
                         replaced=tuple(replaced), renamed=tuple(renamed), variables=tuple(changes),
                         items_added=tuple(items_added))
    return merged, report


class _Places:
    """Where an incoming item goes: the first item of its id, else the first of its name in its folder (looked
    up, not searched: a merge of n items into m takes n + m steps, not n × m)."""

    def __init__(self, items: list[Item]) -> None:
        self.by_id: dict[str, int] = {}
        self.by_name: dict[tuple[str, tuple[str, ...]], int] = {}
        for index, item in enumerate(items):
            self.add(item, index)

    def add(self, item: Item, index: int) -> None:
        self.by_id.setdefault(item.id, index)
        self.by_name.setdefault((item.name, tuple(item.folder)), index)

    def of(self, wanted: Item) -> int | None:
        found = self.by_id.get(wanted.id)
        return found if found is not None else self.by_name.get((wanted.name, tuple(wanted.folder)))


def _free_name(name: str, taken: set[str]) -> str:
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"


def _entry(example: Example, item: Item) -> MergedExample:
    return MergedExample(example.id, example.name, item.name, item.folder, example.describe())

