"""The user's regions by name (`--person-style`, `--background-style`, the window's Regions control)
and their translation to the engine's Regions (style vectors; engines/regions.py).

Each region is CURRENT (the selected style: style keys and crossfades move it), ORIGINAL (the
camera picture) or a style name. The window offers four modes over the selected style S and a
second style B: whole frame (S, S), background only (ORIGINAL, S), person only (S, ORIGINAL),
two styles (S, B).
"""
from __future__ import annotations

from dataclasses import dataclass

from stylecam.engines.regions import CURRENT, ORIGINAL, Regions
from stylecam.engines.styles import StyleBank

MODES = ("whole", "background", "person", "two")
MODE_LABELS = {"whole": "Whole frame", "background": "Background only", "person": "Person only", "two": "Two styles"}


@dataclass(frozen=True)
class RegionChoice:
    """person, background: CURRENT, ORIGINAL, or a style name (or 0-based index as text)."""

    person: str = CURRENT
    background: str = CURRENT

    @classmethod
    def for_mode(cls, mode: str, second_style: str) -> RegionChoice:
        """The choice behind one of the window's MODES; second_style paints the background in 'two'."""
        choices = {"whole": cls(), "background": cls(person=ORIGINAL), "person": cls(background=ORIGINAL),
                   "two": cls(background=second_style)}
        if mode not in choices:
            raise ValueError(f"unknown regions mode {mode!r}; choose from {', '.join(MODES)}")
        return choices[mode]

    @property
    def mode(self) -> str:
        """The window mode this choice is (any choice with a style name for the background is 'two')."""
        if self.person == ORIGINAL:
            return "background"
        if self.background == ORIGINAL:
            return "person"
        return "whole" if (self.person, self.background) == (CURRENT, CURRENT) else "two"

    def regions(self, bank: StyleBank) -> Regions:
        """The engine's Regions; StyleError for an unknown style, ValueError if both are ORIGINAL."""
        pick = lambda r: r if r in (CURRENT, ORIGINAL) else bank.vector(r)  # noqa: E731
        return Regions(person=pick(self.person), background=pick(self.background))

    def describe(self, bank: StyleBank | None = None, current: str = "the selected style") -> str:
        """e.g. 'whole frame' or 'person original, background great_wave'; current: what to call
        the selected style."""
        if (self.person, self.background) == (CURRENT, CURRENT):
            return "whole frame"

        def name(r: str) -> str:
            if r == CURRENT:
                return current
            return r if bank is None or r == ORIGINAL else bank.names[bank.index(r)]

        return f"person {name(self.person)}, background {name(self.background)}"


def window_mode(choice: RegionChoice, style: str) -> tuple[str, str, str | None]:
    """The window's (mode, selected style, second style or None to keep the saved one) for a
    command-line choice, where `style` is the style selected otherwise: a style named for the
    person becomes the selected style, one named for the background the second style."""
    person, background = choice.person, choice.background
    if person == ORIGINAL:
        return "background", style if background == CURRENT else background, None
    if background == ORIGINAL:
        return "person", style if person == CURRENT else person, None
    person = style if person == CURRENT else person
    background = style if background == CURRENT else background
    return ("whole", person, None) if person == background else ("two", person, background)
