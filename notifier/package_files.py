"""Folders the package ships (message templates, the console's pages and files), found
through the import system, so that an installed wheel finds them as a checkout does."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def shipped_folder(package: str, name: str) -> Path:
    """The folder ``name`` inside ``package``, as a directory on disk.

    Parameters:
      package: the dotted name of the package that ships it.
      name: the folder's path inside the package.

    Jinja's loaders and the console's file server read directories, so a package that
    is not unpacked on disk (run from a zip file) is refused with one clear line.
    """
    folder = files(package).joinpath(name)
    if not isinstance(folder, Path) or not folder.is_dir():
        raise RuntimeError(
            f"{package} ships no {name} folder on disk: install the package with pip "
            "(not as a zip file), from a wheel or a checkout"
        )
    return folder
