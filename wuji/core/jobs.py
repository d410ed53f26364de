"""Imports every app's periodic jobs so the scheduler's registry is complete at start."""

import importlib

from django.apps import apps


def _load() -> None:
    for config in apps.get_app_configs():
        if config.name.startswith("wuji."):
            try:
                importlib.import_module(f"{config.name}.tasks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.tasks":
                    raise


_load()
