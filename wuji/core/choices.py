"""ChoiceSet: enumerations as constants plus (value, label, colour) rows with translated labels."""

from typing import ClassVar


class ChoiceSetMeta(type):
    def __new__(mcs, name, bases, attrs):
        cls = super().__new__(mcs, name, bases, attrs)
        cls._labels = {value: label for value, label, *_ in attrs.get("CHOICES", ())}
        cls._colours = {row[0]: row[2] for row in attrs.get("CHOICES", ()) if len(row) > 2}
        return cls

    def __iter__(cls):
        return iter((value, label) for value, label, *_ in cls.CHOICES)


class ChoiceSet(metaclass=ChoiceSetMeta):
    """Subclass with UPPER_CASE constants and CHOICES = ((value, label[, colour]), ...)."""

    CHOICES: ClassVar[tuple] = ()

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return list(cls)

    @classmethod
    def values(cls) -> list[str]:
        return [value for value, *_ in cls.CHOICES]

    @classmethod
    def label(cls, value: str) -> str:
        return cls._labels.get(value, value)

    @classmethod
    def colour(cls, value: str) -> str:
        return cls._colours.get(value, "grey")
